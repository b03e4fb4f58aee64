import { cacheOracle } from '../helpers/cache-oracle.ts'

// The cache oracle (test/helpers/cache-oracle.ts) on a second sequence of random writes.
cacheOracle(20261207, 20)
