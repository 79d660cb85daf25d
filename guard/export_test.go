package guard

// CacheLen is how many verdicts g's cache holds.
func CacheLen(g *Guard) int { return g.cache.len() }
