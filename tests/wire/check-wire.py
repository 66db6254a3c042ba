#!/usr/bin/python3
"""Cross-checks client/proto's encoders against tshark: runs wire-gen, reads
the pcap back with tshark and asserts that every field equals what was
encoded, that authenticators recompute (independently, with hashlib) over
the bytes tshark shows, and that nothing is malformed or an expert error.
Exit 0 pass, 1 fail, 77 skip (no tshark)."""

import argparse
import hashlib
import hmac
import os
import shutil
import subprocess
import sys
import tempfile

PI_ERROR = 0x00800000  # epan/proto.h expert severity
PI_WARN = 0x00600000
AUTH_TYPES = (32, 33, 34, 36)
# Always read, whatever the expectations: the raw payload (for Identification
# and authenticators) and the dissection's verdicts.
ALWAYS = ['frame.number', 'udp.payload', 'mip.type', 'mip.ext.type', 'mip.auth.spi',
          'mip.auth.auth', '_ws.malformed', '_ws.expert.severity', '_ws.expert.message']


def load_expectations(path):
    frames, total = {}, None
    with open(path, encoding='utf-8') as f:
        for line in f:
            frame, field, value = line.rstrip('\n').split('\t', 2)
            if field == '@frames':
                total = int(value)
                continue
            frames.setdefault(int(frame), []).append((field, value))
    return frames, total


def norm(value):
    """tshark prints booleans as 1/0, hex fields zero-padded, bytes as bare hex;
    compare numbers as numbers and the rest as lower-case text."""
    out = []
    for e in value.split(','):
        e = e.strip()
        if e in ('True', 'False'):
            out.append(int(e == 'True'))
            continue
        try:
            out.append(int(e, 0))
        except ValueError:
            out.append(e.lower())
    return out


def run_tshark(pcap, fields):
    cmd = ['tshark', '-n', '-r', pcap,
           '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
           '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a',
           '-E', 'aggregator=,', '-E', 'quote=n']
    for f in fields:
        cmd += ['-e', f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        sys.exit(f'check-wire: tshark failed ({res.returncode}):\n{res.stderr}')
    rows = {}
    for line in res.stdout.splitlines():
        cols = line.split('\t')
        cols += [''] * (len(fields) - len(cols))
        row = dict(zip(fields, cols))
        rows[int(row['frame.number'])] = row
    return rows


def expected_authenticator(spec, covered):
    parts = spec.split(':')
    alg, key = parts[1], bytes.fromhex(parts[2])
    if alg == 'hmac-md5':
        return hmac.new(key, covered, 'md5').digest()
    if alg == 'keyed-md5':  # RFC 2002 prefix+suffix
        return hashlib.md5(key + covered + key).digest()
    if alg == 'mn-aaa':  # RFC 3012 §8, the CHAP-style default algorithm
        chal = bytes.fromhex(parts[3])
        inner = hashlib.md5(covered).digest()
        return hashlib.md5(chal[:1] + key + inner + chal[-237:]).digest()
    raise ValueError(f'unknown algorithm {alg}')


def check_auth(row, specs, errors):
    """Pairs the n-th @auth with tshark's n-th authentication extension, finds
    its authenticator in the payload right after the SPI, and recomputes it over
    everything before it (message, prior extensions, own type/length/SPI)."""
    payload = bytes.fromhex(row['udp.payload'])
    types = [int(t) for t in row['mip.ext.type'].split(',') if t and int(t) in AUTH_TYPES]
    spis = [int(s, 0) for s in row['mip.auth.spi'].split(',') if s]
    auths = [a for a in row['mip.auth.auth'].split(',') if a]
    if not len(types) == len(spis) == len(auths) == len(specs):
        errors.append(f'{len(specs)} authentication extensions encoded, tshark shows '
                      f'types {types} SPIs {spis} authenticators {len(auths)}')
        return
    for spec, etype, spi, auth_hex in zip(specs, types, spis, auths):
        want_type = int(spec.split(':')[0])
        auth = bytes.fromhex(auth_hex)
        if etype != want_type:
            errors.append(f'auth extension type {etype}, expected {want_type}')
            continue
        if len(auth) != 16:
            errors.append(f'ext {etype}: authenticator is {len(auth)} bytes, expected 16')
            continue
        pos = [p for p in range(4, len(payload) - 15)
               if payload[p:p + 16] == auth and payload[p - 4:p] == spi.to_bytes(4, 'big')]
        if len(pos) != 1:
            errors.append(f'ext {etype}: authenticator found {len(pos)} times after its SPI')
            continue
        p = pos[0]
        hdr_ok = (payload[p - 8] == 36 and payload[p - 7] == 1 and payload[p - 6:p - 4] == b'\x00\x14'
                  if etype == 36 else payload[p - 6] == etype and payload[p - 5] == 20)
        if not hdr_ok:
            errors.append(f'ext {etype}: type/length before the SPI are wrong')
        want = expected_authenticator(spec, payload[:p])
        if want != auth:
            errors.append(f'ext {etype} ({spec.split(":")[1]}): authenticator {auth.hex()}, '
                          f'recomputed {want.hex()}')


def check_frame(frame, exp, row, errors):
    specs = [v for f, v in exp if f == '@auth']
    for field, value in exp:
        if field in ('@name', '@auth'):
            continue
        if field == '@ident':
            off = {'1': 16, '3': 12}.get(row['mip.type'])
            got = bytes.fromhex(row['udp.payload'])[off:off + 8].hex() if off else ''
            if got != value:
                errors.append(f'Identification: expected {value}, payload has {got!r}')
            continue
        got = row.get(field, '')
        if norm(got) != norm(value):
            errors.append(f'{field}: expected {value!r}, tshark shows {got!r}')
    if specs or row['mip.auth.auth']:
        check_auth(row, specs, errors)
    if row['_ws.malformed']:
        errors.append('tshark marks the frame malformed')
    sev = [int(s, 0) for s in row['_ws.expert.severity'].split(',') if s]
    if any(s >= PI_ERROR for s in sev):
        errors.append(f'expert error: {row["_ws.expert.message"]}')
    elif any(s >= PI_WARN for s in sev):
        errors.append(f'expert warning: {row["_ws.expert.message"]}')


def check(pcap, tsv):
    frames, total = load_expectations(tsv)
    fields = list(ALWAYS)
    for exp in frames.values():
        for f, _ in exp:
            if not f.startswith('@') and f not in fields:
                fields.append(f)
    rows = run_tshark(pcap, fields)
    failures = 0
    checked = 0
    if total is None or len(rows) != total:
        print(f'FAIL: wire-gen wrote {total} frames, tshark read {len(rows)}')
        failures += 1
    for frame in sorted(frames):
        exp = frames[frame]
        name = next((v for f, v in exp if f == '@name'), '?')
        errors = []
        if frame not in rows:
            errors.append('frame missing from tshark output')
        else:
            check_frame(frame, exp, rows[frame], errors)
        checked += sum(1 for f, _ in exp if f != '@name')
        print(f'{"ok  " if not errors else "FAIL"} {frame:3} {name}')
        for e in errors:
            print(f'       {e}')
        failures += bool(errors)
    print(f'{len(frames)} frames, {checked} expectations, {len(fields)} tshark fields, '
          f'{failures} failing')
    return failures == 0


def corrupt(tsv, mode):
    """Self-test: one wrong expectation must make the check fail."""
    lines = open(tsv, encoding='utf-8').read().splitlines(keepends=True)
    for i, line in enumerate(lines):
        frame, field, value = line.rstrip('\n').split('\t', 2)
        if mode == 'field' and field == 'mip.life':
            lines[i] = f'{frame}\t{field}\t{int(value) ^ 1}\n'
            break
        if mode == 'auth' and field == '@auth':
            t, alg, key = value.split(':')[:3]
            lines[i] = f'{frame}\t{field}\t{t}:{alg}:{key[:-2]}{int(key[-2:], 16) ^ 1:02x}\n'
            break
    else:
        sys.exit(f'check-wire: nothing to corrupt for {mode}')
    with open(tsv, 'w', encoding='utf-8') as f:
        f.writelines(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('wire_gen', help='path to the wire-gen executable')
    ap.add_argument('--keep', metavar='DIR', help='write wire.pcap and wire.tsv here and keep them')
    ap.add_argument('--self-test', action='store_true',
                    help='corrupt one field and one key; pass only if both are caught')
    args = ap.parse_args()
    if not shutil.which('tshark'):
        print('SKIP: tshark is not installed (apt-get install tshark, or tools/setup-deps)')
        return 77
    ver = subprocess.run(['tshark', '--version'], capture_output=True, text=True).stdout
    print(ver.splitlines()[0] if ver else 'tshark: unknown version')
    with tempfile.TemporaryDirectory(prefix='mipd-wire-') as tmp:
        out = args.keep or tmp
        os.makedirs(out, exist_ok=True)
        pcap, tsv = os.path.join(out, 'wire.pcap'), os.path.join(out, 'wire.tsv')
        if subprocess.run([args.wire_gen, pcap, tsv], check=False).returncode != 0:
            print('FAIL: wire-gen could not encode every message')
            return 1
        if not args.self_test:
            return 0 if check(pcap, tsv) else 1
        caught = 0
        for mode in ('field', 'auth'):
            subprocess.run([args.wire_gen, pcap, tsv], check=True)
            corrupt(tsv, mode)
            print(f'--- self-test: corrupted one {mode} expectation, expecting a failure')
            caught += not check(pcap, tsv)
        print(f'self-test: {caught}/2 corruptions caught')
        return 0 if caught == 2 else 1


if __name__ == '__main__':
    sys.exit(main())
