package main

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"
)

// Monitor is a URL the statusboard watches.
type Monitor struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	URL             string    `json:"url"`
	IntervalSeconds int       `json:"interval_seconds"`
	CreatedBy       string    `json:"created_by"`
	CreatedAt       time.Time `json:"created_at"`
	// LastResult is the latest a probe reported; null before any.
	LastResult *Result `json:"last_result"`
}

// Result is what a probe reported about a monitor.
type Result struct {
	MonitorID  string    `json:"monitor_id"`
	OK         bool      `json:"ok"`
	LatencyMS  int       `json:"latency_ms"`
	ProbeToken string    `json:"probe_token"`
	ReportedAt time.Time `json:"reported_at"`
}

// Metrics are an agent's latest numbers.
type Metrics struct {
	AgentID    string             `json:"agent_id"`
	Values     map[string]float64 `json:"values"`
	ReceivedAt time.Time          `json:"received_at"`
}

// store keeps each org's monitors and agents' metrics in memory.
type store struct {
	mu       sync.Mutex
	now      func() time.Time
	monitors map[string]map[string]*Monitor // org id → monitor id → monitor
	metrics  map[string]map[string]*Metrics // org id → agent id → metrics
}

func newStore(now func() time.Time) *store {
	return &store{now: now, monitors: map[string]map[string]*Monitor{}, metrics: map[string]map[string]*Metrics{}}
}

func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "mon_" + hex.EncodeToString(b[:])
}

func (s *store) list(org string) []Monitor {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Monitor{}
	for _, m := range s.monitors[org] {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Monitor) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *store) create(org string, m Monitor) Monitor {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID, m.CreatedAt = newID(), s.now().UTC()
	if s.monitors[org] == nil {
		s.monitors[org] = map[string]*Monitor{}
	}
	s.monitors[org][m.ID] = &m
	return m
}

func (s *store) get(org, id string) (Monitor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.monitors[org][id]
	if !ok {
		return Monitor{}, false
	}
	return *m, true
}

func (s *store) delete(org, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.monitors[org][id]
	delete(s.monitors[org], id)
	return ok
}

func (s *store) report(org string, r Result) (Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.monitors[org][r.MonitorID]
	if !ok {
		return r, false
	}
	r.ReportedAt = s.now().UTC()
	m.LastResult = &r
	return r, true
}

func (s *store) heartbeat(org, agent string, values map[string]float64) Metrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := Metrics{AgentID: agent, Values: values, ReceivedAt: s.now().UTC()}
	if s.metrics[org] == nil {
		s.metrics[org] = map[string]*Metrics{}
	}
	s.metrics[org][agent] = &m
	return m
}

func (s *store) agents(org string) []Metrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Metrics{}
	for _, m := range s.metrics[org] {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Metrics) int { return strings.Compare(a.AgentID, b.AgentID) })
	return out
}
