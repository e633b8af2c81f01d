package main

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
)

// `verify sweep --org` re-checks each table in its own account: while the organization's
// confirmation waits on a real terminal (a pty), a member account's planned orphan is deleted
// and another project's table made under its name, with an item. The organization id is typed;
// that account's candidate is `replaced` (re-read there, it is another table; re-read in any
// other account it would be `gone`) and nothing is deleted there, while the other member's
// orphan, re-checked in its own account, is deleted. Exit 1: not everything planned
// was done.
func TestOrgSweepATableReplacedInAMemberAccountIsNotDeleted(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	const region = "eu-west-2"
	o := fixture.NewOrg(t, "recheck", 2)
	raced, calm := o.Members[0], o.Members[1]
	rc := fixture.InAccount(t, raced, org.DefaultRole, region)
	cc := fixture.InAccount(t, calm, org.DefaultRole, region)
	orphan := map[string]string{"Project": "wallet", "Stack": "Gone-stack"}
	rc.CreateTable(t, "raced", orphan, false)
	cc.CreateTable(t, "calm", orphan, false)

	p := atPrompt(t, "Type the organization id to go ahead: ", "sweep", "--org", "--region", region, "--json")
	rc.ReplaceTable(t, "raced") // someone of the member account, while the prompt waits
	if t.Failed() {
		t.FailNow()
	}
	got := p.answer(t, o.ID)
	out, term := &p.out, p.term
	var r orgSweepJSON
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("exit %d, report %v:\n%s\nterminal:\n%s", got, err, out.String(), term.String())
	}
	var actions []string
	for _, c := range r.Candidates {
		actions = append(actions, c.Account+"/"+c.Table+"/"+c.Action)
	}
	slices.Sort(actions)
	want := []string{calm + "/calm/" + string(sweep.Deleted), raced + "/raced/" + string(sweep.Replaced)}
	slices.Sort(want)
	if got != exitFailed || r.DryRun || !slices.Equal(actions, want) {
		t.Fatalf("exit %d (want %d), candidates %v, want %v\n%s", got, exitFailed, actions, want, out.String())
	}
	items, err := rc.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("raced"), Select: types.SelectCount})
	if err != nil || items.Count != 1 {
		t.Fatalf("the member's new table or its item is gone: %v (%v)", items, err)
	}
	if (sweepCloud{cc}).has(t, "calm") {
		t.Fatalf("after the sweep:\n%s\n%s", rc.State(t), cc.State(t))
	}
}
