// Command netecho is the network peer of gocker's end-to-end tests, built
// static so that it runs in any container image:
//
//	netecho serve tcp|udp ADDRESS    reply to each line or datagram with "echo:" and it
//	netecho serve tcp4 ADDRESS       the same on an IPv4 socket (tcp listens on IPv6
//	                                 with IPv4 mapped where the address is a wildcard)
//	netecho serve tcp-thread ADDRESS the same as tcp, with the socket bound by a thread
//	                                 other than the process's first one
//	netecho serve sum ADDRESS        read a TCP stream to its end, then reply with its
//	                                 length and SHA-256 ("LENGTH HEX") and close
//	netecho serve peer ADDRESS       reply to each TCP connection with the
//	                                 client's address as accept(2) returned it
//	netecho send tcp|udp ADDRESS MSG send MSG and print the reply
//	netecho escape LISTEN TARGET     accept one client on LISTEN, disconnect
//	                                 its socket (connect with AF_UNSPEC) and
//	                                 connect that socket to TARGET; print
//	                                 "connected" or "refused: ERROR"
//
// A server runs until it is killed; a client gives up after 5 seconds.
package main

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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
	case "escape":
		err = escape(os.Args[2], os.Args[3])
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
	if proto != "tcp" && proto != "tcp4" && proto != "tcp-thread" && proto != "udp" && proto != "sum" && proto != "peer" {
		return fmt.Errorf("unknown protocol %q", proto)
	}
	network := "tcp"
	if proto == "tcp4" {
		network, proto = "tcp4", "tcp"
	}
	listen := net.Listen
	if proto == "tcp-thread" {
		listen, proto = listenOnOtherThread, "tcp"
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
	ln, err := listen(network, addr)
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
			if proto == "peer" {
				fmt.Fprintf(c, "%s\n", c.RemoteAddr())
				return
			}
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

// escape tries to turn an accepted socket into a client of TARGET, an
// IPv4 address and port, with a 3-second limit on the connection.
func escape(listen, target string) error {
	dst, err := netip.ParseAddrPort(target)
	if err != nil || !dst.Addr().Is4() {
		return fmt.Errorf("target %q is not an IPv4 address and port", target)
	}
	ln, err := net.Listen("tcp4", listen)
	if err != nil {
		return err
	}
	fmt.Println("ready")

	c, err := ln.Accept()
	if err != nil {
		return err
	}
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		return err
	}
	fd := int(f.Fd())
	unspec := [16]byte{} // struct sockaddr with sa_family AF_UNSPEC (0)
	if _, _, errno := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&unspec[0])), uintptr(len(unspec))); errno != 0 {
		fmt.Printf("refused: disconnect: %v\n", errno)
		return nil
	}

	if err := connectWithin(fd, &unix.SockaddrInet4{Addr: dst.Addr().As4(), Port: int(dst.Port())}, 3*time.Second); err != nil {
		fmt.Printf("refused: %v\n", err)
		return nil
	}
	fmt.Println("connected")
	return nil
}

// connectWithin connects the socket fd to addr, giving up after timeout.
func connectWithin(fd int, addr unix.Sockaddr, timeout time.Duration) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		return err
	}
	err := unix.Connect(fd, addr)
	if err != unix.EINPROGRESS {
		return err
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(pfd, int(timeout.Milliseconds()))
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("timed out")
	}
	soErr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if soErr != 0 {
		return unix.Errno(soErr)
	}
	return nil
}

func init() {
	// The main goroutine keeps the process's first thread, so that
	// listenOnOtherThread runs on another one.
	runtime.LockOSThread()
}

// listenOnOtherThread calls net.Listen from a thread other than the
// process's first one, as servers with worker threads do.
func listenOnOtherThread(network, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == os.Getpid() {
			done <- result{err: errors.New("the listening goroutine runs on the first thread")}
			return
		}
		ln, err := net.Listen(network, addr)
		done <- result{ln, err}
	}()
	r := <-done
	return r.ln, r.err
}
