package mcp

import (
	"encoding/json"
	"github.com/keyward/keyward/internal/response"
	"log/slog"
	"net/http"

	"github.com/keyward/keyward"
)

// JSON-RPC error codes of the answers the handler gives before the MCP
// server sees a request (server-defined range, mirroring the HTTP status).
const (
	codeUnauthorized   = -32001
	codeForbidden      = -32003
	codeInvalidRequest = -32600
	codeInternal       = -32603
)

// rpcError is a JSON-RPC error response.
type rpcError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   rpcErrorBody    `json:"error"`
}

type rpcErrorBody struct {
	Code    int          `json:"code"`
	Message string       `json:"message"`
	Data    rpcErrorData `json:"data"`
}

// rpcErrorData carries keyward's error code, as the API's error body does.
type rpcErrorData struct {
	Code   string `json:"code"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// reject answers an HTTP error with a JSON-RPC error body, carrying the
// request's id when the body held exactly one request. Internal errors
// are logged and answered "internal error".
func (h *handler) reject(w http.ResponseWriter, r *http.Request, msgs []message, status, code int, err error) {
	data := rpcErrorData{Code: keyward.ErrorCode(err), Status: status, Detail: keyward.ErrorDetail(err)}
	message := keyward.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		h.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("err", err.Error()))
		data.Code, data.Detail, message = keyward.EINTERNAL, "", "internal error"
	}
	id := json.RawMessage("null")
	if len(msgs) == 1 && len(msgs[0].ID) > 0 {
		id = msgs[0].ID
	}
	b, _ := json.Marshal(rpcError{JSONRPC: "2.0", ID: id, Error: rpcErrorBody{Code: code, Message: message, Data: data}})
	w.Header().Set("Content-Type", "application/json")
	response.SetRetryAfter(w.Header(), status)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
