package service

// SetFlushChunk sets the rows a usage flush writes per transaction, for a
// test, and returns what restores it.
func SetFlushChunk(n int) (restore func()) {
	old := flushChunk
	flushChunk = n
	return func() { flushChunk = old }
}
