// Command netecho is the network peer of gocker's end-to-end tests, built
// static so that it runs in any container image:
//
//	netecho serve tcp|udp ADDRESS    reply to each line or datagram with "echo:" and it
//	netecho serve sum ADDRESS        read a TCP stream to its end, then reply with its
//	                                 length and SHA-256 ("LENGTH HEX") and close
//	netecho send tcp|udp ADDRESS MSG send MSG and print the reply
//
// A server runs until it is killed; a client gives up after 5 seconds.
package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: netecho serve tcp|udp ADDRESS | send tcp|udp ADDRESS MESSAGE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2], os.Args[3])
	case "send":
		if len(os.Args) != 5 {
			err = fmt.Errorf("send needs a message")
			break
		}
		err = send(os.Args[2], os.Args[3], os.Args[4])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netecho:", err)
		os.Exit(1)
	}
}

func serve(proto, addr string) error {
	if proto != "tcp" && proto != "udp" && proto != "sum" {
		return fmt.Errorf("unknown protocol %q", proto)
	}
	if proto == "udp" {
		conn, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		fmt.Println("ready")
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return err
			}
			_, _ = conn.WriteTo(append([]byte("echo:"), buf[:n]...), from)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			if proto == "sum" {
				h := sha256.New()
				n, err := io.Copy(h, c)
				if err == nil {
					fmt.Fprintf(c, "%d %x\n", n, h.Sum(nil))
				}
				return
			}
			scanner := bufio.NewScanner(c)
			for scanner.Scan() {
				fmt.Fprintf(c, "echo:%s\n", scanner.Text())
			}
		}()
	}
}

func send(proto, addr, msg string) error {
	c, err := net.DialTimeout(proto, addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if proto == "udp" {
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		buf := make([]byte, 65536)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		fmt.Println(string(buf[:n]))
		return nil
	}
	if _, err := fmt.Fprintln(c, msg); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	fmt.Print(line)
	return nil
}
