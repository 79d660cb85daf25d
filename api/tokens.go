package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
)

// The token handlers serve both /v1/tokens (the caller's personal tokens)
// and /v1/orgs/{org}/keys (the org's API keys, agent and probe tokens):
// each takes the service.TokenSet it addresses.

// location is the URL of token id in set, for the Location header.
func location(r *http.Request, set service.TokenSet, id string) string {
	if set == service.OrgKeys {
		return "/v1/orgs/" + url.PathEscape(r.PathValue("org")) + "/keys/" + url.PathEscape(id)
	}
	return "/v1/tokens/" + url.PathEscape(id)
}

// createToken mints a token: 201 with the token and its secret.
func (s *server) createToken(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		var req client.TokenRequest
		if err := decode(w, r, &req, bodyRequired); err != nil {
			return err
		}
		t, secret, err := s.svc.CreateToken(r.Context(), c, set, wire.TokenRequestIn(req))
		if err != nil {
			return err
		}
		w.Header().Set("Location", location(r, set, t.ID))
		s.writeJSON(w, r, http.StatusCreated, wire.SecretOut(t, secret))
		return nil
	}
}

// listTokens lists a page of tokens, newest first: ?status=, ?kind=,
// ?limit=, ?cursor=.
func (s *server) listTokens(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		q := r.URL.Query()
		limit, cursor, err := pageQuery(q)
		if err != nil {
			return err
		}
		f := keyward.TokenFilter{Status: keyward.Status(q.Get("status")), Limit: limit, Cursor: cursor}
		for _, k := range q["kind"] {
			for k := range strings.SplitSeq(k, ",") {
				if k = strings.TrimSpace(k); k != "" {
					f.Kinds = append(f.Kinds, keyward.Kind(k))
				}
			}
		}
		tokens, next, err := s.svc.FindTokens(r.Context(), c, set, f)
		if err != nil {
			return err
		}
		if set == service.OrgKeys {
			s.writeJSON(w, r, http.StatusOK, client.KeyList{Keys: wire.TokensOut(tokens), NextCursor: wire.CursorOut(next)})
		} else {
			s.writeJSON(w, r, http.StatusOK, client.TokenList{Tokens: wire.TokensOut(tokens), NextCursor: wire.CursorOut(next)})
		}
		return nil
	}
}

// getToken shows one token.
func (s *server) getToken(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		t, err := s.svc.FindTokenByID(r.Context(), c, set, r.PathValue("id"))
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, wire.TokenOut(t))
		return nil
	}
}

// updateToken renames a token or changes its description.
func (s *server) updateToken(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		var req client.TokenUpdate
		if err := decode(w, r, &req, bodyRequired); err != nil {
			return err
		}
		t, err := s.svc.UpdateToken(r.Context(), c, set, r.PathValue("id"), service.TokenUpdate{Name: req.Name, Description: req.Description})
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, wire.TokenOut(t))
		return nil
	}
}

// revokeToken revokes a token at once; revoking it again succeeds.
func (s *server) revokeToken(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		var req client.RevokeRequest
		if err := decode(w, r, &req, bodyOptional); err != nil {
			return err
		}
		t, err := s.svc.RevokeToken(r.Context(), c, set, r.PathValue("id"), req.Reason)
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, wire.TokenOut(t))
		return nil
	}
}

// regenerateToken gives a token a new secret and validity: 200 with the
// token and its new secret.
func (s *server) regenerateToken(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		var req client.RegenerateRequest
		if err := decode(w, r, &req, bodyOptional); err != nil {
			return err
		}
		t, secret, err := s.svc.RegenerateToken(r.Context(), c, set, r.PathValue("id"), service.RegenerateRequest{
			ExpiresIn: req.ExpiresIn, ExpiresAt: req.ExpiresAt, NoExpiry: req.NoExpiry,
		})
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, wire.SecretOut(t, secret))
		return nil
	}
}

// rotateToken mints the token's successor; the old one keeps working for
// the overlap ("0" to "7d", default "0"). 200 with the new token and its
// secret.
func (s *server) rotateToken(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		var req client.RotateRequest
		if err := decode(w, r, &req, bodyOptional); err != nil {
			return err
		}
		overlap, err := durationField("overlap", req.Overlap)
		if err != nil {
			return err
		}
		t, secret, err := s.svc.RotateToken(r.Context(), c, set, r.PathValue("id"), overlap, service.RegenerateRequest{
			ExpiresIn: req.ExpiresIn, ExpiresAt: req.ExpiresAt, NoExpiry: req.NoExpiry,
		})
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, wire.SecretOut(t, secret))
		return nil
	}
}

// deleteToken deletes one token: 204.
func (s *server) deleteToken(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		if err := s.svc.DeleteToken(r.Context(), c, set, r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// deleteAllTokens deletes every token of the set; it needs ?confirm=all.
func (s *server) deleteAllTokens(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		if r.URL.Query().Get("confirm") != "all" {
			return &keyward.Error{
				Code:    keyward.EINVALID,
				Message: "deleting every token needs ?confirm=all",
				Detail:  "to delete one token, send DELETE to its own URL",
			}
		}
		deleted, err := s.svc.DeleteAllTokens(r.Context(), c, set)
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, client.DeletedTokens{Deleted: nonNil(deleted)})
		return nil
	}
}

// addScope adds one scope to a token and answers the token.
func (s *server) addScope(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		var req client.Scope
		if err := decode(w, r, &req, bodyRequired); err != nil {
			return err
		}
		t, err := s.svc.AddScope(r.Context(), c, set, r.PathValue("id"), wire.ScopeIn(req))
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, wire.TokenOut(t))
		return nil
	}
}

// removeScope removes one scope ({scope_id}) or every scope of a token and
// answers the token.
func (s *server) removeScope(set service.TokenSet) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		// Without {scope_id} in the route, PathValue is "": every scope.
		t, err := s.svc.RemoveScope(r.Context(), c, set, r.PathValue("id"), r.PathValue("scope_id"))
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, wire.TokenOut(t))
		return nil
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
