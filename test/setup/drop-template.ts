import { rm } from 'node:fs/promises'
import { PGLITE_TEMPLATE_FILE, quoteIdent, templateDatabaseName, testServerUrl, withAdminClient } from '../helpers/test-database.ts'

// Runs once after the test files (tap's `after`): removes the template made by prepare-template.ts.
const serverUrl = testServerUrl()
if (serverUrl === undefined) {
  await rm(PGLITE_TEMPLATE_FILE, { force: true })
} else {
  await withAdminClient(serverUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdent(templateDatabaseName(serverUrl))} WITH (FORCE)`))
}
