// Package inbox reads what an SNS topic sends, for tests: an SQS queue subscribed to the topic,
// as a program subscriber would be. moto delivers SNS to SQS for real, so a test sees the exact
// envelope and the message a non-email subscriber gets.
package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Inbox is one queue subscribed to one topic.
type Inbox struct {
	QueueURL string
	sqs      *sqs.Client
}

// Notification is one SNS delivery as an SQS subscriber without raw delivery receives it.
type Notification struct {
	Type     string `json:"Type"`
	TopicArn string `json:"TopicArn"`
	Subject  string `json:"Subject"`
	// Message is what the topic sent to the sqs protocol: with MessageStructure json, the
	// "sqs" key if present, else "default".
	Message string `json:"Message"`
}

// Subscribe creates a queue named for the test and subscribes it to topicArn. The queue and the
// subscription go when the test ends.
func Subscribe(tb testing.TB, cfg aws.Config, topicArn string) *Inbox {
	tb.Helper()
	ctx := tb.Context()
	q := sqs.NewFromConfig(cfg)
	name := fmt.Sprintf("inbox-%d", time.Now().UnixNano())
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		tb.Fatalf("create queue %s: %v", name, err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: created.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		tb.Fatalf("queue ARN of %s: %v", name, err)
	}
	topic := sns.NewFromConfig(cfg)
	sub, err := topic.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topicArn), Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])})
	if err != nil {
		tb.Fatalf("subscribe %s to %s: %v", name, topicArn, err)
	}
	tb.Cleanup(func() {
		// The test's context is done by now; clean-up gets its own, short one.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = topic.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: sub.SubscriptionArn})
		_, _ = q.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: created.QueueUrl})
	})
	return &Inbox{QueueURL: aws.ToString(created.QueueUrl), sqs: q}
}

// Receive waits up to wait for n notifications and fails the test if fewer arrive.
func (in *Inbox) Receive(tb testing.TB, n int, wait time.Duration) []Notification {
	tb.Helper()
	var got []Notification
	deadline := time.Now().Add(wait)
	for len(got) < n && time.Now().Before(deadline) {
		out, err := in.sqs.ReceiveMessage(tb.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(in.QueueURL),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			tb.Fatalf("receive from %s: %v", in.QueueURL, err)
		}
		for _, m := range out.Messages {
			var note Notification
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &note); err != nil {
				tb.Fatalf("not an SNS envelope: %v\n%s", err, aws.ToString(m.Body))
			}
			got = append(got, note)
			if _, err := in.sqs.DeleteMessage(tb.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(in.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				tb.Fatalf("delete message: %v", err)
			}
		}
	}
	if len(got) < n {
		bodies := make([]string, len(got))
		for i, g := range got {
			bodies[i] = g.Message
		}
		tb.Fatalf("%d notifications within %v, want %d: %s", len(got), wait, n, strings.Join(bodies, "\n"))
	}
	return got
}

// None fails the test if a notification arrives within wait: for runs that must stay quiet.
func (in *Inbox) None(tb testing.TB, wait time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		out, err := in.sqs.ReceiveMessage(tb.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(in.QueueURL),
			MaxNumberOfMessages: 1, WaitTimeSeconds: 1})
		if err != nil {
			tb.Fatalf("receive from %s: %v", in.QueueURL, err)
		}
		if len(out.Messages) > 0 {
			tb.Fatalf("a notification arrived, none was due: %s", aws.ToString(out.Messages[0].Body))
		}
	}
}
