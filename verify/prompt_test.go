package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/creack/pty"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// ttyOutput collects what the command writes to the terminal, and says when a text appeared.
type ttyOutput struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen chan struct{}
	want string
}

func (o *ttyOutput) drain(r io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		o.mu.Lock()
		o.buf.Write(b[:n])
		if o.want != "" && strings.Contains(o.buf.String(), o.want) {
			o.want = ""
			close(o.seen)
		}
		o.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (o *ttyOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// prompted is verify running on a real terminal (a pty), stopped at its confirmation prompt:
// the test acts while it waits, then answers.
type prompted struct {
	ptmx *os.File
	term *ttyOutput
	out  bytes.Buffer // the report (stdout)
	code chan int
}

// promptHangGuard ends a test whose prompt never comes, rather than the package's timeout.
const promptHangGuard = 60 * time.Second

// atPrompt runs verify with args on a pty and returns once prompt is on the terminal; the test
// fails if the command ends first.
func atPrompt(t *testing.T, prompt string, args ...string) *prompted {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	p := &prompted{ptmx: ptmx, term: &ttyOutput{seen: make(chan struct{}), want: prompt}, code: make(chan int, 1)}
	go p.term.drain(ptmx)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { p.code <- run(ctx, args, tty, &p.out, tty) }()
	select {
	case <-p.term.seen:
	case got := <-p.code:
		t.Fatalf("exit %d before the prompt:\n%s\n%s", got, p.term.String(), p.out.String())
	case <-time.After(promptHangGuard):
		t.Fatalf("no prompt %q after %s (a hang guard, not a performance figure):\n%s", prompt, promptHangGuard, p.term.String())
	}
	return p
}

// answer types line at the prompt and returns the command's exit code.
func (p *prompted) answer(t *testing.T, line string) int {
	t.Helper()
	if _, err := p.ptmx.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
	return <-p.code
}

// The confirmation prompt of `verify sweep` on a real terminal (a pty): while it waits, the
// planned orphan is deleted and another project's table is made under its name, with an item.
// The account id is typed; the new table and its item survive, the report says `replaced`,
// and the exit is 1 (not everything planned was done: a replaced table is not the user's
// failure, and nothing planned of it was deleted).
func TestSweepPromptATableReplacedWhileItWaits(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	c := newSweepCloud(t, "il-central-1")
	c.CreateTable(t, "racet", map[string]string{"Project": "wallet", "Stack": "Wallet-gone"}, false)

	p := atPrompt(t, "Type the account id to go ahead: ", "sweep", "--region", "il-central-1")
	c.ReplaceTable(t, "racet") // the concurrent user, while the prompt waits
	if t.Failed() {
		t.FailNow()
	}
	got := p.answer(t, "123456789012")
	report := p.out.String()
	if got != exitFailed || !strings.Contains(report, "replaced") || !strings.Contains(p.term.String()+report, "plan again") {
		t.Fatalf("exit %d (want %d); report:\n%s\nterminal:\n%s", got, exitFailed, report, p.term.String())
	}
	items, err := c.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("racet"), Select: types.SelectCount})
	if err != nil || items.Count != 1 {
		t.Fatalf("the new table or its item is gone: %v (%v)", items, err)
	}
}
