import js from '@eslint/js'
import regexp from 'eslint-plugin-regexp'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.cache/', '.tap/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': ['error', {
        object: 'process',
        property: 'env',
        message: 'Read configuration through src/config.ts only.'
      }]
    }
  },
  {
    // Regular expressions whose time can grow faster than their input (ReDoS): backtracking
    // within one match, and a failed match tried again from every position of a run. The second
    // found the trailing-slash strips and the URL template's placeholder search quadratic.
    files: ['src/**', 'migrations/**', 'bin/**'],
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': ['error', { report: 'potential', ignorePartial: false }]
    }
  },
  {
    // bin/ holds the two plain-JavaScript entry points that run before (or without) a build.
    files: ['bin/**'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
    rules: { 'no-restricted-properties': 'off' }
  },
  {
    // Layering (README, Architecture): platform code never depends on a feature module.
    // test/architecture.test.ts checks the same, and that only src/changes/ touches the changes table.
    files: ['src/http/**', 'src/changes/**', 'src/db/**'],
    ignores: ['src/db/schema.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['**/content/**', '**/syndication/**', '**/demo/**', '**/api-keys/**'],
          message: 'Platform code (http/, changes/, db/) must not import feature modules; invert the dependency (a plugin, a decorator, a callback).'
        }]
      }]
    }
  },
  {
    // Migrations are typed Kysely<any> on purpose (frozen in time, not tied to today's tables),
    // and tests read JSON bodies whose shape they assert on.
    files: ['migrations/**', 'src/db/migrator.ts', 'test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' }
  },
  {
    // The config module, the CLI's test plumbing and scripts outside src/ may read the environment.
    files: ['src/config.ts', 'test/**', 'bench/**', 'migrations/**'],
    rules: { 'no-restricted-properties': 'off' }
  }
)
