//go:build !race

package service_test

// propertyChecks is how many random action sequences the property test
// runs per backend.
const propertyChecks = 150
