import type { ImgprocStateEvent } from "./imgproc-image";

export interface ImgprocImageProps {
  srcKey: string;
  cdn: string;
  alt: string;
  sizes?: string;
  timeout?: number;
  onComplete?: () => void; // the <picture> is shown
  onFailure?: () => void; // FAILED, timed out or unreachable; the element says which
}

/** An upload as imgproc serves it: placeholder while processing, then the picture. */
export function ImgprocImage({ srcKey, cdn, alt, sizes, timeout, onComplete, onFailure }:
  ImgprocImageProps) {
  const settled = (event: ImgprocStateEvent) => {
    if (event.detail.state === "complete") onComplete?.();
    if (event.detail.state === "error") onFailure?.();
  };
  // React 19 adds this as the "imgproc-state" listener before the element is connected.
  return (
    <imgproc-image src-key={srcKey} cdn={cdn} alt={alt} sizes={sizes} timeout={timeout}
      onimgproc-state={settled} />
  );
}

// Usage (README.md quotes these lines; the test checks they are still here).
export const teamPhoto = (onShown: () => void, retryLater: () => void) => (
  <ImgprocImage srcKey="uploads/u1/photo.jpg" cdn="https://dxxxx.cloudfront.net" alt="Our team"
    sizes="(max-width: 800px) 100vw, 800px" onComplete={onShown} onFailure={retryLater} />
);
