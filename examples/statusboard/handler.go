package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/keyward/keyward/guard"
)

// newHandler is the statusboard's API: every route but /healthz behind
// the guard, with the permission, kind and scope it needs.
func newHandler(g *guard.Guard, s *store) http.Handler {
	h := &handler{s: s}
	id := func(r *http.Request) string { return r.PathValue("id") }
	mux := http.NewServeMux()
	route := func(pattern string, next http.HandlerFunc, checks ...func(http.Handler) http.Handler) {
		var hh http.Handler = next
		for i := len(checks) - 1; i >= 0; i-- {
			hh = checks[i](hh)
		}
		mux.Handle(pattern, g.Authenticate(hh))
	}
	read, write := guard.RequirePermission("monitors:read"), guard.RequirePermission("monitors:write")
	route("GET /v1/monitors", h.list, read)
	route("POST /v1/monitors", h.create, write)
	route("GET /v1/monitors/{id}", h.get, read, g.RequireScope("monitor", "read", id))
	route("DELETE /v1/monitors/{id}", h.delete, write, g.RequireScope("monitor", "delete", id))
	route("POST /v1/agents/metrics", h.heartbeat, guard.RequireKind("agent"), guard.RequirePermission("agent:heartbeat"))
	route("GET /v1/agents", h.agents, read)
	route("POST /v1/probes/results", h.report, guard.RequireKind("probe"), guard.RequirePermission("probe:report"))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

type handler struct{ s *store }

// identity is the caller's, which the guard put in the context.
func identity(r *http.Request) *guard.Identity {
	id, _ := guard.FromContext(r.Context())
	return id
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"monitors": h.s.list(identity(r).OrgID)})
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name            string `json:"name"`
		URL             string `json:"url"`
		IntervalSeconds int    `json:"interval_seconds"`
	}
	if !decode(w, r, &in) {
		return
	}
	if u, err := url.Parse(in.URL); in.Name == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "a monitor needs a name and an http(s) url")
		return
	}
	if in.IntervalSeconds == 0 {
		in.IntervalSeconds = 60
	}
	if in.IntervalSeconds < 10 || in.IntervalSeconds > 86400 {
		writeError(w, http.StatusBadRequest, "invalid_request", "interval_seconds must be from 10 to 86400")
		return
	}
	m := h.s.create(identity(r).OrgID, Monitor{Name: in.Name, URL: in.URL, IntervalSeconds: in.IntervalSeconds, CreatedBy: identity(r).TokenID})
	writeJSON(w, http.StatusCreated, m)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	m, ok := h.s.get(identity(r).OrgID, r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no such monitor")
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	if !h.s.delete(identity(r).OrgID, r.PathValue("id")) {
		writeError(w, http.StatusNotFound, "not_found", "no such monitor")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) heartbeat(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Values map[string]float64 `json:"values"`
	}
	if !decode(w, r, &in) {
		return
	}
	id := identity(r)
	writeJSON(w, http.StatusAccepted, h.s.heartbeat(id.OrgID, id.AgentID, in.Values))
}

func (h *handler) agents(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"agents": h.s.agents(identity(r).OrgID)})
}

func (h *handler) report(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MonitorID string `json:"monitor_id"`
		OK        bool   `json:"ok"`
		LatencyMS int    `json:"latency_ms"`
	}
	if !decode(w, r, &in) {
		return
	}
	id := identity(r)
	res, ok := h.s.report(id.OrgID, Result{MonitorID: in.MonitorID, OK: in.OK, LatencyMS: in.LatencyMS, ProbeToken: id.TokenID})
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no such monitor")
		return
	}
	writeJSON(w, http.StatusAccepted, res)
}

// decode reads a JSON body of at most 64 KiB into v, or answers 400.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("invalid JSON body: %v", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with keyward's error shape, as the guard does.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": true, "code": code, "status": status, "message": msg})
}
