// Shared WebRTC helpers for casting: peer connections, presets, codec order, decoder stats.

// Presets: Slides keep detail (full resolution, 15-30 fps), Video keeps motion (30-60 fps).
// Bitrate caps keep four shares within a school Wi-Fi cell.
export const PRESETS = {
  slides: { hint: "detail", frameRate: { ideal: 30, max: 30 }, maxFramerate: 30, maxBitrate: 2_500_000, degradation: "maintain-resolution" },
  video: { hint: "motion", frameRate: { ideal: 30, max: 60 }, maxFramerate: 60, maxBitrate: 5_000_000, degradation: "maintain-framerate" },
};
// The teacher's preview of a request: small and cheap.
export const PREVIEW = { maxWidth: 320, maxHeight: 180, maxFramerate: 5, maxBitrate: 250_000 };

export function pcId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// One RTCPeerConnection with its signalling state: queued ICE until the remote description is set.
export function newPeer(iceServers, onCandidate) {
  const pc = new RTCPeerConnection({ iceServers: iceServers || [] });
  const peer = { id: pcId(), pc, queued: [], remoteSet: false };
  pc.onicecandidate = (ev) => onCandidate(ev.candidate ? ev.candidate.toJSON() : null, peer);
  return peer;
}

export async function setRemote(peer, description) {
  await peer.pc.setRemoteDescription(description);
  peer.remoteSet = true;
  for (const c of peer.queued.splice(0)) await addCandidate(peer, c);
}

export async function addCandidate(peer, candidate) {
  if (!peer.remoteSet) { peer.queued.push(candidate); return; }
  try { await peer.pc.addIceCandidate(candidate || undefined); } catch (e) { console.warn("ice", e); }
}

// How much to scale a track down so it fits max x max (never up).
export function scaleFor(track, maxWidth, maxHeight) {
  const s = track.getSettings();
  if (!maxWidth || !s.width || !s.height) return 1;
  return Math.max(1, s.width / maxWidth, s.height / maxHeight);
}

export async function limitSender(sender, { scale = 1, maxFramerate, maxBitrate, degradation }) {
  const params = sender.getParameters();
  if (!params.encodings || !params.encodings.length) params.encodings = [{}];
  for (const enc of params.encodings) {
    enc.scaleResolutionDownBy = scale;
    if (maxFramerate) enc.maxFramerate = maxFramerate;
    if (maxBitrate) enc.maxBitrate = maxBitrate;
  }
  if (degradation) params.degradationPreference = degradation;
  try { await sender.setParameters(params); } catch (e) { console.warn("setParameters", e); }
}

// Receivers render as soon as a frame decodes: no jitter buffer on video (audio keeps its own).
export function lowLatency(receiver) {
  if (receiver.track?.kind !== "video") return;
  if ("jitterBufferTarget" in receiver) receiver.jitterBufferTarget = 0;
  if ("playoutDelayHint" in receiver) receiver.playoutDelayHint = 0;
}

// Put the preferred codecs first on a receiving transceiver (the answer carries the order).
export function preferCodecs(transceiver, mimeTypes) {
  if (!transceiver.setCodecPreferences || !window.RTCRtpReceiver?.getCapabilities) return;
  const codecs = RTCRtpReceiver.getCapabilities("video")?.codecs || [];
  const rank = (c) => { const i = mimeTypes.indexOf(c.mimeType); return i < 0 ? mimeTypes.length : i; };
  const sorted = [...codecs].sort((a, b) => rank(a) - rank(b));
  try { transceiver.setCodecPreferences(sorted); } catch (e) { console.warn("codecs", e); }
}

// Figures of one received video stream, from getStats.
export async function videoStats(pc) {
  const report = await pc.getStats();
  let inbound = null;
  const codecs = new Map();
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") inbound = s;
    if (s.type === "codec") codecs.set(s.id, s.mimeType);
  });
  if (!inbound) return null;
  const frames = inbound.framesDecoded || 0;
  return {
    decoder: String(inbound.decoderImplementation || "unknown").slice(0, 80),
    codec: String(codecs.get(inbound.codecId) || "").slice(0, 40),
    power_efficient: inbound.powerEfficientDecoder ?? null,
    decode_ms: frames ? Math.round((1000 * (inbound.totalDecodeTime || 0) / frames) * 100) / 100 : 0,
    fps: Math.round((inbound.framesPerSecond || 0) * 10) / 10,
    dropped: inbound.framesDropped || 0,
    frames,
    width: inbound.frameWidth || 0,
    height: inbound.frameHeight || 0,
  };
}
