// Command mint is a helper of bench/auth.sh: it mints n personal access
// tokens through keyward's API with the PAT of a bootstrap answer, a few
// at a time, and writes their secrets to a file (mode 0600), one a line.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/keyward/keyward/client"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mint:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", "", "keyward's URL")
	boot := flag.String("bootstrap", "", "file holding the JSON answer of 'keyward bootstrap -o json'")
	n := flag.Int("n", 10000, "how many tokens to mint")
	out := flag.String("out", "", "file to write the secrets to")
	workers := flag.Int("workers", 8, "requests in flight")
	flag.Parse()

	b, err := os.ReadFile(*boot)
	if err != nil {
		return err
	}
	var answer struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(b, &answer); err != nil || answer.Secret == "" {
		return fmt.Errorf("%s holds no bootstrap secret", *boot)
	}
	c := client.New(*url, answer.Secret)
	secrets := make([]string, *n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, *workers)
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				ts, err := c.Tokens().Create(context.Background(), client.TokenRequest{Name: fmt.Sprintf("bench-%05d", i), ExpiresIn: "1d"})
				if err != nil {
					errs <- fmt.Errorf("minting token %d: %w", i, err)
					return
				}
				secrets[i] = ts.Secret
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, s := range secrets {
		fmt.Fprintln(w, s)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
