package container

import (
	"slices"
	"strings"
	"testing"

	"github.com/gocker/gocker/container/initproc"
	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func hostEnv(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestParseEnvFile(t *testing.T) {
	input := "# comment\nA=1\n  B=two words\nHOSTVAR\nMISSING\n\nC=\n"
	got, err := ParseEnvFile(strings.NewReader(input), hostEnv(map[string]string{"HOSTVAR": "from-host"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "B=two words", "HOSTVAR=from-host", "C="}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestParseEnvFileRejectsBadName(t *testing.T) {
	_, err := ParseEnvFile(strings.NewReader("A=1\n=oops\n"), hostEnv(nil))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("error = %v, want one naming line 2", err)
	}
}

func TestParseEnvFlags(t *testing.T) {
	got, err := ParseEnvFlags([]string{"X=1", "Y", "Z=a=b"}, hostEnv(map[string]string{"Y": "y"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"X=1", "Y=y", "Z=a=b"}, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestMergeEnv(t *testing.T) {
	got := MergeEnv([]string{"PATH=/bin", "A=1"}, []string{"A=2", "B=3"})
	if diff := cmp.Diff([]string{"PATH=/bin", "A=2", "B=3"}, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		name      string
		add, drop []string
		check     func([]string) string
	}{
		{"default", nil, nil, func(c []string) string {
			if len(c) != len(DefaultCapabilities) {
				return "default set changed"
			}
			return ""
		}},
		{"drop all add one", []string{"chown"}, []string{"ALL"}, func(c []string) string {
			if !cmp.Equal(c, []string{"CAP_CHOWN"}) {
				return "want only CAP_CHOWN"
			}
			return ""
		}},
		{"add net_admin drop net_raw", []string{"NET_ADMIN"}, []string{"CAP_NET_RAW"}, func(c []string) string {
			has := strings.Join(c, ",")
			if !strings.Contains(has, "CAP_NET_ADMIN") || strings.Contains(has, "CAP_NET_RAW") {
				return "want CAP_NET_ADMIN without CAP_NET_RAW"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caps, err := Capabilities(tt.add, tt.drop)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(caps); msg != "" {
				t.Errorf("%s: got %v", msg, caps)
			}
		})
	}
	if _, err := Capabilities([]string{"NOT_A_CAP"}, nil); err == nil {
		t.Error("unknown capability accepted")
	}
}

func TestHostnameOnlyInProcessEnv(t *testing.T) {
	c, err := NewContainer(CreateOptions{ID: strings.Repeat("ab", 32), Image: "img", ImageConfig: v1.Config{Env: []string{"PATH=/bin"}}})
	if err != nil {
		t.Fatal(err)
	}
	if initproc.HasEnv(c.Config.Env, "HOSTNAME") {
		t.Errorf("record Env = %v, want no HOSTNAME", c.Config.Env)
	}
	want := []string{"PATH=/bin", "HOSTNAME=abababababab"}
	if diff := cmp.Diff(want, processEnv(c)); diff != "" {
		t.Errorf("processEnv (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(append(want, "A=1"), newExecSpec(c, ExecOptions{Env: []string{"A=1"}}, nil, nil).Env); diff != "" {
		t.Errorf("exec Env (-want +got):\n%s", diff)
	}

	explicit, err := NewContainer(CreateOptions{ID: strings.Repeat("cd", 32), Image: "img", Env: []string{"HOSTNAME=mine"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := processEnv(explicit); !slices.Contains(got, "HOSTNAME=mine") || slices.Contains(got, "HOSTNAME=cdcdcdcdcdcd") {
		t.Errorf("processEnv with -e HOSTNAME=mine = %v, want only the user's value", got)
	}
}
