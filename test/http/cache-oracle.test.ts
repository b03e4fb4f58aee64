import { cacheOracle } from '../helpers/cache-oracle.ts'

// The cache oracle (test/helpers/cache-oracle.ts) on one seed; cache-oracle-another-seed.test.ts
// runs it on another, beside this file, so each sequence fits a file's time on a busy machine.
cacheOracle(20261129, 20)
