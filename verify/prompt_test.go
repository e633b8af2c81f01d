package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/creack/pty"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
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

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	term := &ttyOutput{seen: make(chan struct{}), want: "Type the account id to go ahead: "}
	go term.drain(ptmx)

	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"sweep", "--region", "il-central-1"}, tty, &out, tty) }()
	select {
	case <-term.seen:
	case got := <-code:
		t.Fatalf("exit %d before the prompt:\n%s\n%s", got, term.String(), out.String())
	}

	// The concurrent user, while the prompt waits.
	if _, err := c.DynamoDB.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("racet")}); err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableNotExistsWaiter(c.DynamoDB).Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("racet")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	c.CreateTable(t, "racet", map[string]string{"Project": "payments"}, false)
	if _, err := c.DynamoDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("racet"),
		Item: map[string]types.AttributeValue{wallet.KeyAttribute: &types.AttributeValueMemberS{Value: "payroll"}}}); err != nil {
		t.Fatal(err)
	}

	if _, err := ptmx.Write([]byte("123456789012\n")); err != nil {
		t.Fatal(err)
	}
	got := <-code
	report := out.String()
	if got != exitFailed || !strings.Contains(report, "replaced") || !strings.Contains(term.String()+report, "plan again") {
		t.Fatalf("exit %d (want %d); report:\n%s\nterminal:\n%s", got, exitFailed, report, term.String())
	}
	items, err := c.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("racet"), Select: types.SelectCount})
	if err != nil || items.Count != 1 {
		t.Fatalf("the new table or its item is gone: %v (%v)", items, err)
	}
}
