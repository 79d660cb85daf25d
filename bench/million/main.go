// Command million is a helper of bench/million.sh, in two modes.
//
//	million -mint -database-url URL -bootstrap FILE -n N -out FILE
//
// writes n active personal access tokens of the bootstrapped owner straight
// into the database, ten thousand to a transaction (minting through the
// API, one durable commit each, would take a quarter of an hour for a
// million), and their secrets to a file (mode 0600), one a line. Run it
// while no keyward serves the database: it writes no change-feed entries.
//
//	million -warm -url URL -tokens FILE
//
// asks GET /v1/auth once with each token of the file, from a few
// connections, so that every one is in keyward's verification cache, and
// fails on any answer but 200.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/database"
	"github.com/keyward/keyward/service"
)

func main() {
	mint := flag.Bool("mint", false, "write tokens into the database")
	warm := flag.Bool("warm", false, "present every token once to GET /v1/auth")
	dbURL := flag.String("database-url", "", "the database (-mint)")
	boot := flag.String("bootstrap", "", "file holding the JSON answer of 'keyward bootstrap -o json' (-mint)")
	n := flag.Int("n", 1_000_000, "how many tokens to write (-mint)")
	out := flag.String("out", "", "file to write the secrets to (-mint)")
	url := flag.String("url", "", "keyward's URL (-warm)")
	tokens := flag.String("tokens", "", "file of secrets, one a line (-warm)")
	workers := flag.Int("workers", 16, "requests in flight (-warm)")
	flag.Parse()
	var err error
	switch {
	case *mint:
		err = runMint(*dbURL, *boot, *n, *out)
	case *warm:
		err = runWarm(*url, *tokens, *workers)
	default:
		err = fmt.Errorf("give -mint or -warm")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "million:", err)
		os.Exit(1)
	}
}

func runMint(dbURL, bootFile string, n int, out string) error {
	b, err := os.ReadFile(bootFile)
	if err != nil {
		return err
	}
	var answer struct {
		User  client.User  `json:"user"`
		Token client.Token `json:"token"`
	}
	if err := json.Unmarshal(b, &answer); err != nil || answer.User.ID == "" || answer.Token.OrgID == "" {
		return fmt.Errorf("%s holds no bootstrap answer", bootFile)
	}
	ctx := context.Background()
	store, err := database.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	format, err := keyward.NewTokenFormat("")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	const batch = 10_000
	now := time.Now().UTC()
	expires := now.AddDate(0, 0, 30)
	for done := 0; done < n; done += batch {
		secrets := make([]string, 0, batch)
		err := store.Update(ctx, func(tx service.Tx) error {
			for i := done; i < min(n, done+batch); i++ {
				secret := format.New(keyward.KindPAT)
				t := &keyward.Token{
					ID: keyward.NewID(keyward.IDPrefixToken), Kind: keyward.KindPAT,
					OrgID: answer.Token.OrgID, UserID: answer.User.ID, CreatedBy: answer.User.ID,
					Name: fmt.Sprintf("bench-%07d", i), Source: keyward.SourceCLI,
					CreatedAt: now, ExpiresAt: &expires,
					Hash: keyward.HashToken(secret), Display: keyward.DisplayToken(secret),
				}
				t.FamilyID = t.ID
				if err := tx.CreateToken(ctx, t); err != nil {
					return err
				}
				secrets = append(secrets, secret)
			}
			return nil
		})
		if err != nil {
			f.Close()
			return fmt.Errorf("writing tokens %d and on: %w", done, err)
		}
		for _, s := range secrets {
			fmt.Fprintln(w, s)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func runWarm(url, tokensFile string, workers int) error {
	f, err := os.Open(tokensFile)
	if err != nil {
		return err
	}
	var secrets []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		secrets = append(secrets, sc.Text())
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 30 * time.Second}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(secrets) {
					return
				}
				req, _ := http.NewRequest("GET", url+"/v1/auth", nil)
				req.Header.Set("Authorization", "Bearer "+secrets[i])
				req.Header.Set("X-Original-Method", "GET")
				req.Header.Set("X-Original-URI", "/monitors/1")
				res, err := hc.Do(req)
				if err != nil {
					errs <- fmt.Errorf("token %d: %w", i, err)
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					// The status only: the token stays out of the output.
					errs <- fmt.Errorf("token %d: got %s, want 200", i, res.Status)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
