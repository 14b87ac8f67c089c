package image

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckRemovableUsedByStoppedContainer(t *testing.T) {
	const id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	opts := RemoveOptions{UsedBy: func(string) []string { return []string{"web"} }}
	tests := []struct {
		name      string
		tags      []string
		wantForce bool
	}{
		// --force untags a tagged image, so the message may offer it.
		{"tagged", []string{"docker.io/library/busybox:1"}, true},
		// --force cannot untag an image without tags, so removing the
		// container is the only fix.
		{"untagged", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRemovable(&Image{ID: id, RepoTags: tt.tags}, "", opts)
			if !errors.Is(err, ErrInUse) {
				t.Fatalf("checkRemovable = %v, want ErrInUse", err)
			}
			if !strings.Contains(err.Error(), "gocker rm web") {
				t.Errorf("message %q does not name the command that removes the container", err)
			}
			if got := strings.Contains(err.Error(), "--force"); got != tt.wantForce {
				t.Errorf("message %q suggests --force: %v, want %v", err, got, tt.wantForce)
			}
		})
	}
}

func TestCheckRemovableRunningContainer(t *testing.T) {
	img := &Image{ID: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", RepoTags: []string{"docker.io/library/busybox:1"}}
	opts := RemoveOptions{Force: true, RunningUsers: func(string) []string { return []string{"web"} }}
	err := checkRemovable(img, "", opts)
	if err == nil || strings.Contains(err.Error(), "--force") {
		t.Errorf("checkRemovable with --force and a running container = %v, want an error without --force", err)
	}
}
