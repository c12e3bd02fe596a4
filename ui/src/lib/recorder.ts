// Recording a voice comment in the window, where the webview offers a microphone: the platform's
// MediaRecorder, its bytes handed to the back end as base64.

export type Made = { mime: string; base64: string; ms: number };
export type Recording = { stop: () => Promise<Made> };

/** Whether this webview can record at all (it may still be refused a microphone). */
export function canRecord(): boolean {
  return (
    typeof navigator !== 'undefined' &&
    !!navigator.mediaDevices?.getUserMedia &&
    typeof MediaRecorder !== 'undefined'
  );
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    s += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(s);
}

/** Starts recording from the microphone; throws when there is none or it is refused. */
export async function startRecording(): Promise<Recording> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const preferred = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/ogg', 'audio/mp4'];
  const mime = preferred.find((m) => MediaRecorder.isTypeSupported?.(m)) ?? '';
  const recorder = mime ? new MediaRecorder(stream, { mimeType: mime }) : new MediaRecorder(stream);
  const parts: Blob[] = [];
  recorder.ondataavailable = (e) => {
    if (e.data.size > 0) parts.push(e.data);
  };
  const began = Date.now();
  recorder.start();
  return {
    stop: () =>
      new Promise<Made>((resolve, reject) => {
        recorder.onstop = async () => {
          for (const track of stream.getTracks()) track.stop();
          try {
            const type = (recorder.mimeType || mime || 'audio/webm').split(';')[0];
            const blob = new Blob(parts, { type });
            const bytes = new Uint8Array(await blob.arrayBuffer());
            resolve({ mime: type, base64: toBase64(bytes), ms: Date.now() - began });
          } catch (e) {
            reject(e);
          }
        };
        recorder.stop();
      }),
  };
}
