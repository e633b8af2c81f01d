package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func main() {
	ctx := context.Background()
	cfg, _ := config.LoadDefaultConfig(ctx)
	db := dynamodb.NewFromConfig(cfg)
	cw := usage.NewCloudWatch(cfg)
	tags := map[string]string{"Project": "wallet", "Stage": "dev"}
	mk := func(name string, r, w int64) {
		in := wallet.TableInput(name, tags)
		if r == 0 {
			in.BillingMode, in.ProvisionedThroughput = types.BillingModePayPerRequest, nil
		} else {
			in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}
		}
		if _, err := db.CreateTable(ctx, in); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
	}
	use := func(table, metric string, total, busiest float64, step int) {
		now := time.Now().UTC().Truncate(time.Minute)
		var data []cwtypes.MetricDatum
		for i := 0; total > 1e-9; i++ {
			sum := min(busiest, total)
			total -= sum
			data = append(data, cwtypes.MetricDatum{MetricName: aws.String(metric), Unit: cwtypes.StandardUnitCount,
				Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(table)}},
				Timestamp:  aws.Time(now.Add(-time.Duration(3+step*i) * time.Minute)), Value: aws.Float64(sum)})
		}
		for len(data) > 0 {
			n := min(len(data), 500)
			if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/DynamoDB"), MetricData: data[:n]}); err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
			data = data[n:]
		}
	}
	n := os.Args[1]
	switch n {
	case "demo":
		mk("wallet-dev", 10, 10)
		use("wallet-dev", "ConsumedReadCapacityUnits", 2400, 84, 29)
		use("wallet-dev", "ConsumedWriteCapacityUnits", 480, 42, 31)
		mk("wallet-busy", 1, 1)
		use("wallet-busy", "ConsumedReadCapacityUnits", 3000, 150, 37)
		use("wallet-busy", "ConsumedWriteCapacityUnits", 300, 30, 41)
		mk("wallet-od", 0, 0)
		use("wallet-od", "ConsumedReadCapacityUnits", 86_400, 60, 1)
		use("wallet-od", "ConsumedWriteCapacityUnits", 72_000, 50, 1)
		mk("wallet-idle", 1, 1)
	}
}
