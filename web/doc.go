// Package web is keyward's dashboard: server-rendered pages where people
// sign in, mint and manage their tokens, connect AI clients, and, as org
// admins, manage API keys, members, policy and the audit log.
//
// Every rule is the service's: each page action calls the same
// service.Service method that the HTTP API calls, with a Caller built from
// the person's session. Templates and static files are embedded and parsed
// once. Pages work without JavaScript; one small script adds copy buttons
// and confirmation dialogs. Every response carries a strict
// Content-Security-Policy, every form a CSRF token, and a secret is shown
// only in the response to the form that made it.
package web
