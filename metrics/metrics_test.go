package metrics_test

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	m := metrics.New()
	m.Verification("verify", "VALID", 3*time.Millisecond)
	m.Verification("verify", "VALID", time.Millisecond)
	m.Verification("auth", "REVOKED", time.Millisecond)
	m.Request("GET /v1/auth", "GET", 200, time.Millisecond)
	m.Request("", "BREW", 404, time.Millisecond)
	if err := m.GaugeFunc("verify_feed_lag_seconds", "Lag.", func() float64 { return 0.25 }); err != nil {
		t.Fatal(err)
	}
	if err := m.CounterFunc("verify_cache_hits_total", "Hits.", func() float64 { return 7 }); err != nil {
		t.Fatal(err)
	}
	hits := prometheus.NewCounter(prometheus.CounterOpts{Name: "keyward_extra_total", Help: "Extra."})
	hits.Add(2)
	if err := m.Register(hits); err != nil {
		t.Fatal(err)
	}
	// A second collector of the same name is refused, not silently merged.
	if err := m.GaugeFunc("verify_feed_lag_seconds", "Lag.", func() float64 { return 1 }); err == nil {
		t.Error("registering a name twice: got no error")
	} else if !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		t.Errorf("registering a name twice: got %v, want AlreadyRegisteredError", err)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`keyward_verifications_total{code="VALID",endpoint="verify"} 2`,
		`keyward_verifications_total{code="REVOKED",endpoint="auth"} 1`,
		`keyward_verification_duration_seconds_count{endpoint="verify"} 2`,
		`keyward_verification_duration_seconds_count{endpoint="auth"} 1`,
		`keyward_http_requests_total{method="GET",route="GET /v1/auth",status="200"} 1`,
		`keyward_http_requests_total{method="other",route="unmatched",status="404"} 1`,
		`keyward_verify_feed_lag_seconds 0.25`,
		`keyward_verify_cache_hits_total 7`,
		`keyward_extra_total 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	// Verdicts recorded at once from many goroutines, with codes first
	// seen as they go, are all counted.
	m = metrics.New()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				m.Verification("auth", fmt.Sprintf("CODE_%d", (g+i)%5), time.Microsecond)
			}
		})
	}
	wg.Wait()
	out = scrape(t, m)
	for c := range 5 {
		if want := fmt.Sprintf(`keyward_verifications_total{code="CODE_%d",endpoint="auth"} 160`, c); !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if want := `keyward_verification_duration_seconds_count{endpoint="auth"} 800`; !strings.Contains(out, want) {
		t.Errorf("scrape lacks %q", want)
	}
	// A nil *Metrics records nothing and does not panic.
	var none *metrics.Metrics
	none.Verification("verify", "VALID", time.Millisecond)
	none.Request("x", "GET", 200, time.Millisecond)
}
