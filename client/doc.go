// Package client is keyward's Go client for its HTTP API, and the one
// definition of the API's request and response bodies: the server encodes
// these same types.
package client
