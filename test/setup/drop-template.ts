import { rm } from 'node:fs/promises'
import { PGLITE_TEMPLATE_FILE, quoteIdent, templateDatabaseName, testServerUrl, withAdminClient } from '../helpers/test-database.ts'
import { plansTemplateName } from '../helpers/plans-dataset.ts'

// Runs once after the test files (tap's `after`): removes the template made by prepare-template.ts,
// and the heavy tests' archive made from it (plans-dataset.ts).
const serverUrl = testServerUrl()
if (serverUrl === undefined) {
  await rm(PGLITE_TEMPLATE_FILE, { force: true })
} else {
  await withAdminClient(serverUrl, async (client) => {
    for (const name of [plansTemplateName(serverUrl), templateDatabaseName(serverUrl)]) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
  })
}
