// Command spliceproxy is the floor of a userspace TCP forwarder for
// scripts/bench/network.sh. It accepts connections on one address and
// copies each to and from another address with io.Copy, which moves the
// data between TCP sockets with splice(2). It runs until it is killed.
//
//	spliceproxy LISTEN-ADDRESS TARGET-ADDRESS
package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: spliceproxy LISTEN-ADDRESS TARGET-ADDRESS")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "spliceproxy:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "spliceproxy:", err)
			os.Exit(1)
		}
		go forward(c.(*net.TCPConn), os.Args[2])
	}
}

func forward(client *net.TCPConn, target string) {
	defer client.Close()
	conn, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	server := conn.(*net.TCPConn)
	defer server.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(server, client)
		_ = server.CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(client, server)
	_ = client.CloseWrite()
	<-done
}
