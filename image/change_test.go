package image

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestApplyChanges(t *testing.T) {
	tests := []struct {
		name    string
		changes []string
		want    v1.Config
	}{
		{"cmd exec form", []string{`CMD ["sh", "-c", "echo hi"]`}, v1.Config{Cmd: []string{"sh", "-c", "echo hi"}}},
		{"cmd shell form", []string{"CMD echo hi"}, v1.Config{Cmd: []string{"/bin/sh", "-c", "echo hi"}}},
		{"entrypoint", []string{`entrypoint ["/init"]`}, v1.Config{Entrypoint: []string{"/init"}}},
		{"env pairs", []string{"ENV A=1 B=2", "ENV A=3"}, v1.Config{Env: []string{"A=3", "B=2"}}},
		{"env legacy form", []string{"ENV GREETING hello world"}, v1.Config{Env: []string{"GREETING=hello world"}}},
		{"workdir relative", []string{"WORKDIR /srv", "WORKDIR app"}, v1.Config{WorkingDir: "/srv/app"}},
		{"user", []string{"USER nobody:nogroup"}, v1.Config{User: "nobody:nogroup"}},
		{"stop signal", []string{"STOPSIGNAL SIGQUIT"}, v1.Config{StopSignal: "SIGQUIT"}},
		{"stop signal number", []string{"STOPSIGNAL 9"}, v1.Config{StopSignal: "9"}},
		{"expose", []string{"EXPOSE 80 53/udp"}, v1.Config{ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}}}},
		{"label", []string{`LABEL a=b c="d"`}, v1.Config{Labels: map[string]string{"a": "b", "c": "d"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got v1.Config
			if err := ApplyChanges(&got, tt.changes); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyChangesRejects(t *testing.T) {
	for _, change := range []string{"RUN make", "CMD", "ENV =x", "LABEL nokey", "STOPSIGNAL SIGFOO", "STOPSIGNAL 99"} {
		t.Run(change, func(t *testing.T) {
			var cfg v1.Config
			if err := ApplyChanges(&cfg, []string{change}); err == nil {
				t.Errorf("ApplyChanges(%q) succeeded, want an error", change)
			}
		})
	}
}
