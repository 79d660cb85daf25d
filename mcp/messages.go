package mcp

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/keyward/keyward/service"
)

// message is the part of a JSON-RPC message the handler reads before the
// SDK does.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
}

// parseMessages reads the JSON-RPC message, or each message of a batch, in
// body. What does not parse is left for the SDK to refuse; the service
// checks every permission again in any case.
func parseMessages(body []byte) []message {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	raws := []json.RawMessage{body}
	if body[0] == '[' {
		if json.Unmarshal(body, &raws) != nil {
			return nil
		}
	}
	msgs := make([]message, 0, len(raws))
	for _, raw := range raws {
		var m message
		if json.Unmarshal(raw, &m) == nil {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// missingPermissions returns the permissions that the tools called in
// msgs need and c lacks, in the order they are called, without repeats.
func missingPermissions(c *service.Caller, msgs []message) []string {
	var missing []string
	for _, m := range msgs {
		if m.Method != "tools/call" {
			continue
		}
		perm := toolPermission(m.Params.Name)
		if perm == "" || c.Can(perm) || slices.Contains(missing, perm) {
			continue
		}
		missing = append(missing, perm)
	}
	return missing
}
