// Package pricelist is a stand-in for the AWS Price List API, for tests: moto has no Price List
// API, and no local backend serves one. It answers GetProducts (awsJson1_1, target
// AWSPriceListService.GetProducts) on 127.0.0.1 in the real response shape — PriceList as JSON
// strings in the shape of the offer files: product.attributes (regionCode, usagetype with its
// region prefix and IA- variant, group), terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD with
// the free tier's $0 first range, and terms.Reserved for provisioned capacity — filtered by
// regionCode and paginated by NextToken. Its faults are the bad answers a client must survive.
package pricelist

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Region is one region's list prices in the stand-in, as the Price List states them: per unit
// (capacity per unit-hour, requests per request unit, storage per GB-month).
type Region struct {
	Prefix string // the usage type prefix: "" for us-east-1, EU for eu-west-1, EUC1, …
	// Standard and IA map a usage type (without prefix) to its USD price.
	Standard, IA map[string]string
	// Reserved1 and Reserved3 are [RCU upfront, RCU hourly, WCU upfront, WCU hourly] per unit.
	Reserved1, Reserved3 [4]string
}

// Fault is a bad answer the stand-in gives instead of the price list.
type Fault string

const (
	None      Fault = ""
	Garbage   Fault = "garbage"     // a page whose PriceList items are not JSON
	Text      Fault = "abc"         // a price of "abc"
	Huge      Fault = "1e308"       // a price of 1e308
	Missing   Fault = "missing"     // no WriteCapacityUnit-Hrs product
	TokenLoop Fault = "token-loop"  // NextToken alternates between two values forever
	Slow      Fault = "slow"        // answers after 30 seconds
	Denied    Fault = "denied"      // AccessDeniedException
	NotTheAPI Fault = "not-the-api" // HTTP 500 and a page of HTML, as a local cloud without the API answers
)

// Server is a running stand-in.
type Server struct {
	URL     string
	Regions map[string]Region
	fault   atomic.Value // Fault
	// Calls counts GetProducts requests.
	Calls atomic.Int64
}

// SetFault makes every answer from now on the fault (None: the price list again).
func (s *Server) SetFault(f Fault) { s.fault.Store(f) }

// Start serves regions on a free loopback port until the test ends.
func Start(t testing.TB, regions map[string]Region) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("price list stand-in: %v", err)
	}
	s := &Server{URL: "http://" + l.Addr().String(), Regions: regions}
	s.SetFault(None)
	srv := &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

type request struct {
	ServiceCode string
	Filters     []struct{ Type, Field, Value string }
	NextToken   string
	MaxResults  int
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.Calls.Add(1)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if tgt := r.Header.Get("X-Amz-Target"); tgt != "AWSPriceListService.GetProducts" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"InvalidParameterException","message":"unknown target %q"}`, tgt)
		return
	}
	var in request
	_ = json.Unmarshal(body, &in)
	fault := s.fault.Load().(Fault)
	switch fault {
	case Slow:
		select {
		case <-time.After(30 * time.Second):
		case <-r.Context().Done():
			return
		}
	case Denied:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"AccessDeniedException","Message":"User is not authorized to perform: pricing:GetProducts"}`)
		return
	case NotTheAPI:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "<!doctype html><title>500 Internal Server Error</title><h1>Internal Server Error</h1>")
		return
	case TokenLoop:
		next := "A"
		if in.NextToken == "A" {
			next = "B"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"FormatVersion": "aws_v1", "PriceList": []string{}, "NextToken": next})
		return
	case Garbage:
		_ = json.NewEncoder(w).Encode(map[string]any{"FormatVersion": "aws_v1", "PriceList": []string{"<html>not a product", "{{{"}})
		return
	}
	region := ""
	for _, f := range in.Filters {
		if f.Field == "regionCode" {
			region = f.Value
		}
	}
	items := s.products(region, fault)
	// Pages of 10, whatever MaxResults says, so that every client paginates.
	start, _ := strconv.Atoi(in.NextToken)
	end := min(start+10, len(items))
	out := map[string]any{"FormatVersion": "aws_v1", "PriceList": items[min(start, len(items)):end]}
	if end < len(items) {
		out["NextToken"] = strconv.Itoa(end)
	}
	_ = json.NewEncoder(w).Encode(out)
}

// products are the region's products as PriceList strings.
func (s *Server) products(region string, fault Fault) []string {
	reg, ok := s.Regions[region]
	if !ok {
		return []string{}
	}
	var items []string
	add := func(usage, price string, reserved *[4]string, read bool) {
		if fault == Missing && strings.HasSuffix(usage, "WriteCapacityUnit-Hrs") {
			return
		}
		switch fault {
		case Text:
			price = "abc"
		case Huge:
			price = "1e308"
		}
		ut := usage
		if reg.Prefix != "" {
			ut = reg.Prefix + "-" + usage
		}
		sku := strings.NewReplacer("-", "", ":", "").Replace(strings.ToUpper(region + ut))
		dims := map[string]any{
			sku + ".JRTCKXETXF.6YS6EN2CT7": map[string]any{"unit": unitOf(usage), "beginRange": "0", "endRange": "18600",
				"description": "$0.00 free tier", "pricePerUnit": map[string]string{"USD": "0.0000000000"}, "appliesTo": []string{}},
			sku + ".JRTCKXETXF.8EEUB22XNJ": map[string]any{"unit": unitOf(usage), "beginRange": "18600", "endRange": "Inf",
				"description": "list price", "pricePerUnit": map[string]string{"USD": price}, "appliesTo": []string{}},
		}
		terms := map[string]any{"OnDemand": map[string]any{sku + ".JRTCKXETXF": map[string]any{
			"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "termAttributes": map[string]string{}, "priceDimensions": dims}}}
		if reserved != nil && reserved[0] != "" {
			res := map[string]any{}
			for _, t := range []struct {
				code, length string
				r            [4]string
			}{{"4NA7Y494T4", "1yr", reg.Reserved1}, {"BPH4J8HBKS", "3yr", reg.Reserved3}} {
				if t.r[0] == "" {
					continue
				}
				up, hr := t.r[0], t.r[1]
				if !read {
					up, hr = t.r[2], t.r[3]
				}
				res[sku+"."+t.code] = map[string]any{"offerTermCode": t.code, "sku": sku,
					"termAttributes": map[string]string{"LeaseContractLength": t.length, "PurchaseOption": "Heavy Utilization"},
					"priceDimensions": map[string]any{
						sku + "." + t.code + ".2TG2D8R56U": map[string]any{"unit": "Quantity", "description": "Upfront Fee", "pricePerUnit": map[string]string{"USD": up}},
						sku + "." + t.code + ".6YS6EN2CT7": map[string]any{"unit": unitOf(usage), "beginRange": "0", "endRange": "Inf", "pricePerUnit": map[string]string{"USD": hr}},
					}}
			}
			terms["Reserved"] = res
		}
		doc, _ := json.Marshal(map[string]any{
			"product": map[string]any{"productFamily": "Amazon DynamoDB", "sku": sku,
				"attributes": map[string]string{"servicecode": "AmazonDynamoDB", "regionCode": region, "usagetype": ut, "operation": "CommittedThroughput"}},
			"serviceCode": "AmazonDynamoDB", "terms": terms, "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z"})
		items = append(items, string(doc))
	}
	for _, usage := range sortedKeys(reg.Standard) {
		r := [4]string{}
		if usage == "ReadCapacityUnit-Hrs" || usage == "WriteCapacityUnit-Hrs" {
			r = reg.Reserved1
		}
		add(usage, reg.Standard[usage], &r, usage == "ReadCapacityUnit-Hrs")
	}
	for _, usage := range sortedKeys(reg.IA) {
		add("IA-"+usage, reg.IA[usage], nil, false)
	}
	// A product of another service's shape that prices nothing here, as the real list has many.
	doc, _ := json.Marshal(map[string]any{"product": map[string]any{"attributes": map[string]string{"regionCode": region, "usagetype": reg.Prefix + "-DataTransfer-Out-Bytes"}}, "terms": map[string]any{}})
	return append(items, string(doc))
}

func unitOf(usage string) string {
	switch {
	case strings.HasSuffix(usage, "Storage-ByteHrs"):
		return "GB-Mo"
	case strings.HasSuffix(usage, "RequestUnits"):
		return strings.TrimPrefix(usage, "IA-")
	}
	return strings.TrimPrefix(usage, "IA-")
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

// Standard is a region's Standard usage types at prices of the given hourly RCU and WCU and
// GB-month, with requests, PITR and backups in the same proportion as us-east-1's.
func Standard(rcu, wcu, gb float64) map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	k := wcu / 0.00065
	return map[string]string{
		"ReadCapacityUnit-Hrs": f(rcu), "WriteCapacityUnit-Hrs": f(wcu), "TimedStorage-ByteHrs": f(gb),
		"ReadRequestUnits": f(0.000000125 * k), "WriteRequestUnits": f(0.000000625 * k),
		"TimedPITRStorage-ByteHrs": f(0.2 * k), "TimedBackupStorage-ByteHrs": f(0.1 * k),
	}
}

// IA is a region's Standard-IA usage types.
func IA(rcu, wcu, gb, rru, wru float64) map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	return map[string]string{"ReadCapacityUnit-Hrs": f(rcu), "WriteCapacityUnit-Hrs": f(wcu), "TimedStorage-ByteHrs": f(gb),
		"ReadRequestUnits": f(rru), "WriteRequestUnits": f(wru)}
}
