package service

import (
	"fmt"

	"github.com/keyward/keyward"
)

// checkRateLimit checks a new token's own rate limit: not negative, and
// above the default only for a caller who manages the org's API keys, so
// that a member cannot lift the limit from their own tokens. 0 means the
// default.
func (s *Service) checkRateLimit(c *Caller, limit int) error {
	switch {
	case limit < 0:
		return invalid("rate_limit must not be negative")
	case s.rateLimit > 0 && limit > s.rateLimit && !c.Can(keyward.PermAPIKeysManage):
		return s.refused(c, &keyward.Error{
			Code:    keyward.EFORBIDDEN,
			Message: "missing permission " + keyward.PermAPIKeysManage + " to raise a token's rate limit",
			Detail:  fmt.Sprintf("without it a token's rate_limit may be at most the default, %d requests an hour", s.rateLimit),
		})
	}
	return nil
}
