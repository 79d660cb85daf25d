// Package verify is keyward's verification hot path: it checks a presented
// token string's form and checksum, hashes it, and answers from an
// in-memory cache of what a verdict needs (the token, its owner's
// membership, its org and the org's policy), keyed by the token's hash.
//
// A miss reads storage once, through the Loader the cache is given;
// concurrent misses for one token share that read. A well-formed token
// that does not exist is remembered as missing, for a while and in bounded
// number. The cache is kept true by the change feed: Apply evicts what an
// entry names (a token by hash, every token of a member in an org, every
// token of an org), and Follow reads the feed after a sequence number,
// woken by a notification or a poll, so that no entry is ever skipped.
//
// The package imports neither net/http nor database/sql: the service
// implements Loader and Feed over its store, and the backends provide the
// wake-ups.
package verify
