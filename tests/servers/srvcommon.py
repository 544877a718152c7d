"""What the loopback test servers (faultproxy, keyvault, tokenserver) share: TLS on the
listening socket, the port file the fixtures wait for, and serving until stopped."""
import os
import ssl


def serve(srv, cert=None, key=None, port_file=None):
    """Serve srv (bound to 127.0.0.1) until SIGINT: over TLS with cert and key when given; the
    bound port is written to port_file atomically first (servers.sh waits for it)."""
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    if port_file:
        with open(port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(port_file + ".tmp", port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
