package guard

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/keyward/keyward/verify"
)

// outcomes maps a verdict's code to keyward's answer for it: the one
// table of keyward's verify package, by name.
var outcomes = func() map[string]verify.Outcome {
	m := map[string]verify.Outcome{}
	for _, c := range verify.Codes {
		o := c.Outcome()
		if _, ok := m[o.Name]; !ok {
			m[o.Name] = o
		}
	}
	return m
}()

// refusal is the Refusal of a verdict's code, with message when it says
// more than the table's; an unknown code is refused 403 rather than
// admitted.
func refusal(code, message string) *Refusal {
	o, ok := outcomes[code]
	if !ok || o.Error == "" {
		o = outcomes["FORBIDDEN"]
	}
	if message == "" {
		message = o.Message
	}
	return &Refusal{Verdict: code, Status: o.Status, Code: o.Error, Message: message}
}

// HeaderCode carries a refusal's verdict code, as on GET /v1/auth.
const HeaderCode = "X-Keyward-Code"

// errorBody is keyward's error body, with the verdict's code beside it.
type errorBody struct {
	Error   bool   `json:"error"`
	Code    string `json:"code"`
	Status  int    `json:"status"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
	Verdict string `json:"verdict,omitempty"`
}

// WriteError answers err as the middleware does: a *Refusal with its
// status, anything else 503 unavailable (the guard fails closed).
func WriteError(w http.ResponseWriter, err error) { writeError(w, err) }

func writeError(w http.ResponseWriter, err error) {
	b := errorBody{Error: true, Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: "keyward cannot verify the token now", Detail: "retry later"}
	var ref *Refusal
	if errors.As(err, &ref) {
		b = errorBody{Error: true, Status: ref.Status, Code: ref.Code, Message: ref.Message, Detail: ref.Detail, Verdict: ref.Verdict}
		if ref.Verdict != "" {
			w.Header().Set(HeaderCode, ref.Verdict)
		}
		if ref.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="keyward"`)
		}
	} else {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(b.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(b)
}
