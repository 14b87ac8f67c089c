package image

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// dockerHub is the registry a reference without one refers to, as Docker
// names it in canonical references.
const dockerHub = "docker.io"

// Reference is a parsed image reference.
type Reference struct {
	ref name.Reference
}

// ParseReference parses an image reference such as "alpine",
// "ghcr.io/org/app:1.2" or "name@sha256:...". A reference without a
// registry refers to Docker Hub, and one without tag or digest to the
// "latest" tag.
func ParseReference(s string) (Reference, error) {
	if s == "" {
		return Reference{}, fmt.Errorf("invalid image reference \"\": give a name such as alpine or alpine:3.20")
	}
	ref, err := name.ParseReference(s, name.WithDefaultRegistry(dockerHub))
	if err != nil {
		if repo := repositoryPart(s); repo != strings.ToLower(repo) {
			return Reference{}, fmt.Errorf("invalid image reference %q: repository names must be lowercase", s)
		}
		return Reference{}, fmt.Errorf("invalid image reference %q: %w", s, err)
	}
	for _, component := range strings.Split(ref.Context().RepositoryStr(), "/") {
		if !pathComponent.MatchString(component) {
			return Reference{}, fmt.Errorf("invalid image reference %q: repository path component %q must be lowercase letters and digits, separated by '.', '_', '__' or dashes", s, component)
		}
	}
	return Reference{ref: ref}, nil
}

// repositoryPart returns s without its tag or digest.
func repositoryPart(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i:], "/") {
		s = s[:i]
	}
	return s
}

// pathComponent is the distribution reference grammar for one component
// of a repository path; go-containerregistry checks only the characters.
var pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

// registry returns the registry host with Docker Hub's index host written
// as docker.io.
func (r Reference) registry() string {
	reg := r.ref.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		return dockerHub
	}
	return reg
}

// Repository returns the canonical repository, such as
// "docker.io/library/alpine".
func (r Reference) Repository() string {
	return r.registry() + "/" + r.ref.Context().RepositoryStr()
}

// Tag returns the tag, or "" for a digest reference.
func (r Reference) Tag() string {
	if t, ok := r.ref.(name.Tag); ok {
		return t.TagStr()
	}
	return ""
}

// Digest returns the digest of a digest reference, or "".
func (r Reference) Digest() string {
	if d, ok := r.ref.(name.Digest); ok {
		return d.DigestStr()
	}
	return ""
}

// String returns the canonical form, such as
// "docker.io/library/alpine:latest".
func (r Reference) String() string {
	if d := r.Digest(); d != "" {
		return r.Repository() + "@" + d
	}
	return r.Repository() + ":" + r.Tag()
}

// FamiliarRepository returns the repository as Docker prints it: without
// docker.io/ and library/.
func FamiliarRepository(repo string) string {
	repo = strings.TrimPrefix(repo, dockerHub+"/")
	return strings.TrimPrefix(repo, "library/")
}

// SplitTag splits a canonical "repository:tag" into its parts.
func SplitTag(canonical string) (repo, tag string) {
	i := strings.LastIndex(canonical, ":")
	if i < 0 || strings.Contains(canonical[i:], "/") {
		return canonical, ""
	}
	return canonical[:i], canonical[i+1:]
}
