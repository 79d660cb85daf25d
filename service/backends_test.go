package service_test

import (
	"testing"

	"github.com/keyward/keyward/service"
)

// backends lists the stores the service's tests run on; backend files add
// to it.
var backends []struct {
	name string
	open func(t *testing.T) service.Store
}
