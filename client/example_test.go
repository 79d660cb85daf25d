package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/keyward/keyward/client"
)

func Example() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", "kw_pat_...", client.WithUserAgent("my-tool/1.0"))

	// Mint a token for CI that expires in 90 days and may only read monitors.
	minted, err := c.Tokens().Create(ctx, client.TokenRequest{
		Name:      "ci",
		ExpiresIn: "90d",
		Scopes:    []client.Scope{{EntityType: "monitor", EntityID: "*", Operations: []string{"read", "list"}}},
	})
	if err != nil {
		if client.ErrorCode(err) == "forbidden" {
			log.Fatal("this token may not mint tokens")
		}
		log.Fatal(err)
	}
	fmt.Println("store this now:", minted.Secret)

	// Revoke it again.
	if _, err := c.Tokens().Revoke(ctx, minted.Token.ID, "example"); err != nil {
		log.Fatal(err)
	}
}
