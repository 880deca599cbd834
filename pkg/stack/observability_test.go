package stack

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uauth/uauth/pkg/metrics"
)

// uauthMetric is one use of a uauth metric in the template: its name and
// its dimensions.
type uauthMetric struct {
	where string
	name  string
	dims  map[string]string
}

// check holds a use to the catalogue: a metric the code emits, with
// exactly its dimensions (Function, and its outcome dimension if it has
// one), a Function the code sets, and an outcome of its vocabulary.
func (u uauthMetric) check(t *testing.T) *metrics.Metric {
	t.Helper()
	i := slices.IndexFunc(metrics.All, func(m *metrics.Metric) bool { return m.Name == u.name })
	if i < 0 {
		t.Errorf("%s: %s is not a metric the code emits", u.where, u.name)
		return nil
	}
	m := metrics.All[i]
	want := []string{metrics.FunctionDimension}
	if m.Dimension != "" {
		want = append(want, m.Dimension)
	}
	var got []string
	for d := range u.dims {
		got = append(got, d)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: %s with dimensions %v, the code's are %v", u.where, u.name, got, want)
	}
	if f := u.dims[metrics.FunctionDimension]; !slices.Contains([]string{"api", "authorizer", "provisioner", "changes"}, f) {
		t.Errorf("%s: %s for function %q", u.where, u.name, f)
	}
	if o, ok := u.dims[m.Dimension]; m.Dimension != "" && ok && !slices.Contains(m.Outcomes, o) {
		t.Errorf("%s: %s with %s %q, not one of %v", u.where, u.name, m.Dimension, o, m.Outcomes)
	}
	return m
}

// TestAlarmsAndDashboardUseTheCodesMetrics: every uauth metric an alarm or
// the dashboard names is one the code emits, with its dimensions, and
// every metric the code emits is on the dashboard.
func TestAlarmsAndDashboardUseTheCodesMetrics(t *testing.T) {
	tmpl, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	resources := tmpl["Resources"].(map[string]any)
	alarms := 0
	for id, r := range resources {
		r := r.(map[string]any)
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := r["Properties"].(map[string]any)
		if p["AlarmDescription"] == nil {
			t.Errorf("%s has no AlarmDescription", id)
		}
		for _, u := range alarmMetrics(id, p) {
			u.check(t)
			alarms++
		}
	}
	if alarms < 8 {
		t.Fatalf("%d uses of uauth metrics in alarms: the alarms are missing", alarms)
	}

	dash, err := tmpl.Resource("Dashboard")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := dash["DashboardBody"].(map[string]any)["Fn::Sub"].(string)
	// ${...} are CloudFormation's substitutions: stand-ins will do.
	body = regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(body, "x")
	var doc struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v", err)
	}
	shown := map[string]bool{}
	for _, w := range doc.Widgets {
		for _, line := range w.Properties.Metrics {
			if ns, _ := line[0].(string); ns != metrics.Namespace {
				continue
			}
			u := uauthMetric{where: "dashboard: " + w.Properties.Title, name: line[1].(string), dims: map[string]string{}}
			for i := 2; i+1 < len(line); i += 2 {
				k, _ := line[i].(string)
				v, _ := line[i+1].(string)
				if k != "" {
					u.dims[k] = v
				}
			}
			if m := u.check(t); m != nil {
				shown[m.Name] = true
			}
		}
	}
	for _, m := range metrics.All {
		if !shown[m.Name] {
			t.Errorf("%s is emitted but not on the dashboard", m.Name)
		}
	}
}

// alarmMetrics are the uauth metrics an alarm names, directly or in its
// metric math.
func alarmMetrics(id string, p map[string]any) []uauthMetric {
	dims := func(v any) map[string]string {
		out := map[string]string{}
		l, _ := v.([]any)
		for _, d := range l {
			d := d.(map[string]any)
			out[d["Name"].(string)], _ = d["Value"].(string)
		}
		return out
	}
	var out []uauthMetric
	if p["Namespace"] == metrics.Namespace {
		out = append(out, uauthMetric{where: id, name: p["MetricName"].(string), dims: dims(p["Dimensions"])})
	}
	l, _ := p["Metrics"].([]any)
	for _, q := range l {
		stat, _ := q.(map[string]any)["MetricStat"].(map[string]any)
		if stat == nil {
			continue
		}
		m := stat["Metric"].(map[string]any)
		if m["Namespace"] == metrics.Namespace {
			out = append(out, uauthMetric{where: id, name: m["MetricName"].(string), dims: dims(m["Dimensions"])})
		}
	}
	return out
}

// TestLogGroupsHaveRetentionAndTracingIsAParameter.
func TestLogGroupsHaveRetentionAndTracingIsAParameter(t *testing.T) {
	tmpl, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for id, r := range tmpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == "AWS::Logs::LogGroup" {
			ret, _ := r["Properties"].(map[string]any)["RetentionInDays"].(map[string]any)
			if ref, _ := ret["Ref"].(string); !strings.HasSuffix(ref, "LogRetentionDays") {
				t.Errorf("%s's retention is not a parameter: %v", id, r["Properties"])
			}
		}
	}
	params := tmpl["Parameters"].(map[string]any)
	if d := params["ApiLogRetentionDays"].(map[string]any)["Default"]; d != 365 {
		t.Errorf("ApiLogRetentionDays defaults to %v, want 365", d)
	}
	if d := params["Tracing"].(map[string]any)["Default"]; d != "PassThrough" {
		t.Errorf("Tracing defaults to %v, want off", d)
	}
	fn := tmpl["Globals"].(map[string]any)["Function"].(map[string]any)
	if tr, _ := fn["Tracing"].(map[string]any); tr["Ref"] != "Tracing" {
		t.Errorf("Globals.Function.Tracing = %v", fn["Tracing"])
	}
}
