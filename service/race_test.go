//go:build race

package service_test

// propertyChecks is how many random action sequences the property test
// runs per backend; the race detector makes each about ten times slower.
const propertyChecks = 15
