// Package metrics holds keyward's Prometheus metrics: verifications by
// result code, the latency of verification, and HTTP requests by route and
// status. Labels never carry a token, a token id or any other value that
// grows with the number of tokens; other packages (such as the
// verification cache) add their own collectors through Register and
// GaugeFunc.
package metrics

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace starts the name of every metric of keyward.
const Namespace = "keyward"

// Metrics is one registry of keyward's metrics. Its methods are safe for
// concurrent use; a nil *Metrics records nothing.
type Metrics struct {
	reg           *prometheus.Registry
	verifications *prometheus.CounterVec
	verifyLatency *prometheus.HistogramVec
	requests      *prometheus.CounterVec
	reqLatency    *prometheus.HistogramVec
	rateLimited   *prometheus.CounterVec

	// verdicts holds the counter and histogram of each endpoint and code
	// seen, so that recording a verdict (before every request of a guarded
	// product) looks two strings up in a map read without a lock, rather
	// than hashing labels into the vectors twice. A new pair copies the
	// map under verdictsMu; the pairs are few.
	verdicts   atomic.Pointer[map[verdictKey]verdictMetrics]
	verdictsMu sync.Mutex
}

type verdictKey struct{ endpoint, code string }

type verdictMetrics struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// New returns the metrics on a registry of their own, with the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "verifications_total",
			Help:      "Verdicts on presented tokens, by endpoint (verify, auth) and result code (VALID, NOT_FOUND, ...).",
		}, []string{"endpoint", "code"}),
		verifyLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "verification_duration_seconds",
			Help:      "Time to reach a verdict on a presented token, by endpoint.",
			Buckets:   []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"endpoint"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "http_requests_total",
			Help:      "HTTP requests by route pattern (\"unmatched\" for none), method and status.",
		}, []string{"route", "method", "status"}),
		reqLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "http_request_duration_seconds",
			Help:      "Time to answer HTTP requests, by route pattern.",
			Buckets:   prometheus.DefBuckets,
		}, []string{"route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "rate_limited_requests_total",
			Help:      "Requests answered 429 because a budget was spent, by budget: token, address, or a per-address bucket (oauth-register, mcp-auth, ...).",
		}, []string{"budget"}),
	}
	m.reg.MustRegister(m.verifications, m.verifyLatency, m.requests, m.reqLatency, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds collectors of another package (for example the
// verification cache's hits and misses) to the registry. It returns an
// error if one collides with a metric already registered.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("registering a collector: %w", err)
		}
	}
	return nil
}

// GaugeFunc registers a gauge named keyward_<name> whose value fn returns
// at each scrape (for example the change feed's lag in seconds).
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) error {
	return m.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, fn))
}

// CounterFunc registers a counter named keyward_<name> whose value fn
// returns at each scrape (for example cache hits kept by another package).
func (m *Metrics) CounterFunc(name, help string, fn func() float64) error {
	return m.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, fn))
}

// RateLimited records one request refused because budget was spent.
func (m *Metrics) RateLimited(budget string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(budget).Inc()
}

// BuildInfo registers keyward_build_info, 1 with the version and Go
// version as labels, as Prometheus's own build_info metrics are.
func (m *Metrics) BuildInfo(version, goVersion string) error {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   Namespace,
		Name:        "build_info",
		Help:        "Always 1; its labels say which keyward this is.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goVersion},
	})
	g.Set(1)
	return m.Register(g)
}

// Verification records one verdict: endpoint is "verify" or "auth", code
// the verdict's code, d the time it took.
func (m *Metrics) Verification(endpoint, code string, d time.Duration) {
	if m == nil {
		return
	}
	vm := m.verdictMetrics(endpoint, code)
	vm.count.Inc()
	vm.latency.Observe(d.Seconds())
}

func (m *Metrics) verdictMetrics(endpoint, code string) verdictMetrics {
	k := verdictKey{endpoint, code}
	if p := m.verdicts.Load(); p != nil {
		if vm, ok := (*p)[k]; ok {
			return vm
		}
	}
	m.verdictsMu.Lock()
	defer m.verdictsMu.Unlock()
	old := map[verdictKey]verdictMetrics{}
	if p := m.verdicts.Load(); p != nil {
		old = *p
	}
	if vm, ok := old[k]; ok {
		return vm
	}
	next := make(map[verdictKey]verdictMetrics, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	vm := verdictMetrics{m.verifications.WithLabelValues(endpoint, code), m.verifyLatency.WithLabelValues(endpoint)}
	next[k] = vm
	m.verdicts.Store(&next)
	return vm
}

// Request records one HTTP request: route is the ServeMux pattern that
// served it ("" for none), status its answer's status.
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // a client's made-up method must not grow the label set
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.reqLatency.WithLabelValues(route).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Gatherer returns the registry, for tests and for pushing elsewhere.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }
