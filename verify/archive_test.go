package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// export and restore refuse bad input with exit 2, naming the flag and the value, and change
// nothing; a table that holds items is overwritten only with --overwrite. On moto.
func TestArchiveCommandsRefuseBadInput(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	const region = "ap-south-1"
	c := newSweepCloud(t, region)
	ctx := context.Background()
	c.CreateTable(t, "kept", nil, false)
	balance := func(v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "a"}, "balance": &types.AttributeValueMemberN{Value: v}}
	}
	if _, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("kept"), Item: balance("10")}); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if code, out, stderr := sweepRun(t, "", "export", "--region", region, "--table", "kept", "--to", root); code != exitOK {
		t.Fatalf("export: exit %d %s %s", code, out, stderr)
	}
	// The table moves on after the export.
	if _, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("kept"), Item: balance("25")}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	foreign := filepath.Join(t.TempDir(), "kept")
	if err := os.CopyFS(foreign, os.DirFS(filepath.Join(root, "kept"))); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(foreign, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "metadata.json"), []byte(strings.Replace(string(md), "wallet-archive/1", "wallet-archive/7", 1)), 0o600); err != nil {
		t.Fatal(err)
	}

	// A FIFO nobody writes to as metadata.json: reading it would block past --timeout.
	fifo := filepath.Join(t.TempDir(), "kept")
	if err := os.CopyFS(fifo, os.DirFS(filepath.Join(root, "kept"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(fifo, "metadata.json")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(fifo, "metadata.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A symbolic link where the export directory goes, to an empty directory.
	linked := t.TempDir()
	if err := os.Symlink(t.TempDir(), filepath.Join(linked, "kept")); err != nil {
		t.Fatal(err)
	}

	before := c.State(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"export", "--table", "../x", "--to", empty}, []string{"--table", `"../x"`, "3 to 255"}},
		{[]string{"restore", "--table", "../x", "--from", root}, []string{"--table", `"../x"`, "3 to 255"}},
		{[]string{"export", "--table", "kept", "--to", file}, []string{"--to", file, "not a directory"}},
		{[]string{"export", "--table", "missing", "--to", empty}, []string{"missing", "ResourceNotFound"}},
		{[]string{"restore", "--table", "kept", "--from", root}, []string{"already holds 1 items", "1 of them", "--overwrite", "nothing was written"}},
		{[]string{"restore", "--table", "kept-copy", "--from", foreign}, []string{`"wallet-archive/7`, "wallet-archive/1"}},
		{[]string{"restore", "--table", "kept-copy", "--from", fifo, "--timeout", "5s"}, []string{filepath.Join(fifo, "metadata.json"), "FIFO", "not a regular file"}},
		{[]string{"export", "--table", "kept", "--to", linked}, []string{filepath.Join(linked, "kept"), "symbolic link"}},
	} {
		code, _, stderr := sweepRun(t, "", append(tc.args, "--region", region)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, exitUsage, stderr)
		}
		if strings.Contains(stderr, "--export") {
			t.Errorf("%v: blames --export, a flag this command does not have: %s", tc.args, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q does not say %q", tc.args, stderr, w)
			}
		}
	}
	if after := c.State(t); after != before {
		t.Fatalf("a refused command changed the cloud:\n%s\n→\n%s", before, after)
	}
	if entries, err := os.ReadDir(empty); err != nil || len(entries) != 0 {
		t.Fatalf("a refused export left %v behind (%v)", entries, err)
	}
	if got := balanceOf(t, c.DynamoDB, "kept", "a"); got != "25" {
		t.Fatalf("a refused restore overwrote the table's item: balance %s, want 25", got)
	}

	code, out, stderr := sweepRun(t, "", "restore", "--region", region, "--table", "kept", "--from", root, "--overwrite")
	if code != exitOK || !strings.Contains(out, "1 items replaced") {
		t.Fatalf("restore --overwrite: exit %d %s %s", code, out, stderr)
	}
	if got := balanceOf(t, c.DynamoDB, "kept", "a"); got != "10" {
		t.Fatalf("restore --overwrite did not put the exported item back: balance %s, want 10", got)
	}
}

// balanceOf reads a wallet item's balance consistently; a failed read, a missing item or a
// balance that is not a number fails the test, naming which.
func balanceOf(t *testing.T, db *dynamodb.Client, table, user string) string {
	t.Helper()
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: user}}})
	if err != nil {
		t.Fatalf("get %s/%s: %v", table, user, err)
	}
	if out.Item == nil {
		t.Fatalf("get %s/%s: no such item", table, user)
	}
	n, ok := out.Item["balance"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s/%s: balance is %T, not a number: %v", table, user, out.Item["balance"], out.Item)
	}
	return n.Value
}
