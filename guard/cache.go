package guard

import (
	"sync"
	"time"
)

// cacheKey is a verdict's key: the token's SHA-256, never the token, and
// the client address the verdict was given for (a token's allowlist makes
// the verdict depend on it).
type cacheKey struct {
	hash [32]byte
	ip   string
}

type cacheEntry struct {
	id    *Identity
	until time.Time
}

// cache holds VALID verdicts until their time is up, at most size of
// them.
type cache struct {
	mu   sync.Mutex
	size int
	m    map[cacheKey]cacheEntry
}

func newCache(size int) *cache {
	return &cache{size: size, m: make(map[cacheKey]cacheEntry)}
}

// get returns the identity of a verdict still in force at now.
func (c *cache) get(k cacheKey, now time.Time) (*Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, false
	}
	if !now.Before(e.until) {
		delete(c.m, k)
		return nil, false
	}
	return e.id, true
}

// put keeps id until until. A full cache first drops what has expired,
// and when nothing has, an arbitrary entry (the map's order).
func (c *cache) put(k cacheKey, id *Identity, now, until time.Time) {
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.size {
		for key, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.size {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = cacheEntry{id: id, until: until}
}

// len is how many verdicts the cache holds.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
