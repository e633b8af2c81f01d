package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// EnforceIAM makes this moto refuse every request its IAM policies do not allow, from now on
// and for the rest of the process's life: moto lets everything through until told otherwise.
//
// Once it is on, the fixed test credentials (AccessKeyID) stop working: create the users a test
// needs first, one of them allowed everything for the test's own set-up and inspection. moto
// evaluates actions, not resource ARNs (it checks every request against the resource "*"), so
// a statement scoped to a table or a stack matches nothing there.
//
// The switch belongs to one moto process: never turn it on in a server other tests share.
func (s *Server) EnforceIAM(ctx context.Context) error {
	if s.Name != "moto" {
		return fmt.Errorf("enforce IAM on %s: only moto enforces IAM", s.Name)
	}
	// The body is the number of requests still let through unchecked. moto reads it as plain
	// text; a form-encoded body makes it answer 500.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint+"/moto-api/reset-auth", strings.NewReader("0"))
	if err != nil {
		return fmt.Errorf("enforce IAM on %s: %w", s.Endpoint, err)
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("enforce IAM on %s: %w", s.Endpoint, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var answer struct {
		Status string `json:"status"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &answer) != nil || answer.Status != "ok" {
		return fmt.Errorf("enforce IAM on %s: moto answered %s: %s", s.Endpoint, resp.Status, tail(body, 300))
	}
	return nil
}
