package httpapi_test

import (
	"context"
	"maps"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"github.com/uauth/uauth/pkg/caller"
)

// BenchmarkAttach measures attach through the http.Handler against the
// floor DynamoDB Local sets: a bare conditional PutItem of an item of the
// same size, interleaved with it so that both see the same machine. The
// ratio is the figure to watch; absolute times depend on the machine.
func BenchmarkAttach(b *testing.B) {
	e := newEnv(b)
	tok := token(b, orgA, caller.IdentityEditAuth)
	body := `{"clientSecretTrustedIps":[{"ipAddress":"10.0.0.0/8"}],"accessTokenTTL":3600}`

	// The floor's item: an attached identity as stored, under a new key each time.
	seed := e.identity(orgA)
	e.do("POST", path(seed), tok, body).config()
	raw, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key(seed)})
	if err != nil {
		b.Fatal(err)
	}

	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = e.identity(orgA)
	}
	attach := make([]time.Duration, 0, b.N)
	put := make([]time.Duration, 0, b.N)
	var mallocs uint64
	var before, after runtime.MemStats
	e.calls.Reset()
	b.ResetTimer()
	for i := range b.N {
		runtime.ReadMemStats(&before)
		t0 := time.Now()
		resp := e.do("POST", path(ids[i]), tok, body)
		attach = append(attach, time.Since(t0))
		runtime.ReadMemStats(&after)
		mallocs += after.Mallocs - before.Mallocs
		if resp.status() != 200 {
			b.Fatalf("attach: %d %s", resp.status(), resp.rec.Body.String())
		}

		item := maps.Clone(raw.Item)
		item["pk"] = &types.AttributeValueMemberS{Value: "IDENTITY#" + uuid.NewString()}
		t0 = time.Now()
		_, err := e.db.PutItem(context.Background(), &dynamodb.PutItemInput{
			TableName: aws.String(e.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		put = append(put, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := float64(len(attach))
	b.ReportMetric(micros(percentile(attach, 50)), "attach-p50-µs")
	b.ReportMetric(micros(percentile(attach, 99)), "attach-p99-µs")
	b.ReportMetric(micros(percentile(put, 50)), "putitem-p50-µs")
	b.ReportMetric(float64(percentile(attach, 50))/float64(percentile(put, 50)), "attach/putitem-p50")
	b.ReportMetric(float64(mallocs)/n, "attach-allocs")
	b.ReportMetric(float64(e.calls.Calls()["UpdateItem"])/n, "attach-ddb-calls")
}

// BenchmarkOperations runs attach, read, update and revoke on fresh
// identities and reports each one's median latency and DynamoDB calls.
func BenchmarkOperations(b *testing.B) {
	e := newEnv(b)
	tok := token(b, orgA, caller.OrgAdmin)
	ops := []struct{ name, method, body string }{
		{"attach", "POST", `{"accessTokenTTL":3600}`},
		{"get", "GET", ""},
		{"patch", "PATCH", `{"accessTokenTTL":60,"lockoutEnabled":false}`},
		{"delete", "DELETE", ""},
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = e.identity(orgA)
	}
	lat := make([][]time.Duration, len(ops))
	calls := make([]int, len(ops))
	b.ResetTimer()
	for i := range b.N {
		for j, op := range ops {
			e.calls.Reset()
			t0 := time.Now()
			resp := e.do(op.method, path(ids[i]), tok, op.body)
			lat[j] = append(lat[j], time.Since(t0))
			calls[j] += e.calls.Total()
			if resp.status() != 200 {
				b.Fatalf("%s: %d %s", op.name, resp.status(), resp.rec.Body.String())
			}
		}
	}
	b.StopTimer()
	for j, op := range ops {
		b.ReportMetric(micros(percentile(lat[j], 50)), op.name+"-p50-µs")
		b.ReportMetric(float64(calls[j])/float64(b.N), op.name+"-ddb-calls")
	}
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "IDENTITY#" + id},
		"sk": &types.AttributeValueMemberS{Value: "IDENTITY"},
	}
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
