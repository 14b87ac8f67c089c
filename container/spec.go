package container

import "github.com/gocker/gocker/container/initproc"

// Spec is everything the container init needs; see [initproc.Spec].
type Spec = initproc.Spec

// EtcFile is a file the init writes into the container.
type EtcFile = initproc.EtcFile

// Mount is a bind mount from the host into the container.
type Mount = initproc.Mount
