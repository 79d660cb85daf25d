// Package storetest is the one conformance suite of service.Store: every
// backend runs it (sqlite and postgres call Run from their tests), so the
// backends cannot drift apart. It also holds the storage benchmarks.
package storetest
