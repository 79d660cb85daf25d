package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisURLVar names a Redis server for the tests, as a redis:// URL, such
// as redis://127.0.0.1:6379/0. Tests keep their keys under a prefix of
// their own and delete them when they end.
const RedisURLVar = "KEYWARD_TEST_REDIS_URL"

// Redis is a Redis server a test may use: its URL, a client, and a key
// prefix no other test uses.
type Redis struct {
	URL    string
	Client *redis.Client
	// Prefix starts every key the test may write, such as
	// "keyward_test_3fa9c2d1e0b4:".
	Prefix string
}

// RedisServer returns the Redis server that KEYWARD_TEST_REDIS_URL names,
// after checking that it answers, with a fresh key prefix; every key under
// the prefix is deleted and the client closed when the test ends. Without
// the variable the test is skipped, or fails when Strict.
func RedisServer(tb testing.TB) *Redis {
	tb.Helper()
	raw := os.Getenv(RedisURLVar)
	if raw == "" {
		SkipOrFail(tb, "set "+RedisURLVar+"=redis://127.0.0.1:6379/0 to run the Redis tests")
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		tb.Fatalf("%s must be a redis:// URL", RedisURLVar)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		tb.Fatalf("Redis at %s does not answer: %v", RedisURLVar, err)
	}
	var b [6]byte
	rand.Read(b[:])
	r := &Redis{URL: raw, Client: c, Prefix: "keyward_test_" + hex.EncodeToString(b[:]) + ":"}
	tb.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if n, err := r.DeleteKeys(ctx); err != nil {
			tb.Errorf("deleting the test's %d Redis keys: %v", n, err)
		}
	})
	return r
}

// Keys returns the keys under the test's prefix.
func (r *Redis) Keys(ctx context.Context) ([]string, error) {
	var keys []string
	it := r.Client.Scan(ctx, 0, r.Prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	return keys, it.Err()
}

// DeleteKeys deletes every key under the test's prefix and returns how
// many there were.
func (r *Redis) DeleteKeys(ctx context.Context) (int, error) {
	keys, err := r.Keys(ctx)
	if err != nil || len(keys) == 0 {
		return len(keys), err
	}
	return len(keys), r.Client.Del(ctx, keys...).Err()
}
