package service

import "github.com/keyward/keyward"

// SetFlushChunk sets the rows a usage flush writes per transaction, for a
// test, and returns what restores it.
func SetFlushChunk(n int) (restore func()) {
	old := flushChunk
	flushChunk = n
	return func() { flushChunk = old }
}

// CallerPower is the power c may hand on (callerPower), for the property
// test, which compares it with what a verification of each credential
// admits.
func (s *Service) CallerPower(c *Caller) keyward.Power { return s.callerPower(c) }
