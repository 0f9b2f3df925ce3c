// <imgproc-image> (src/imgproc/web/static/imgproc-image.js) for React 19's JSX types.
import type { DetailedHTMLProps, HTMLAttributes } from "react";

/** The element's `state` attribute, and `detail.state` of its `imgproc-state` event. */
export type ImgprocState = "waiting" | "complete" | "error";
export type ImgprocStateEvent = CustomEvent<{ state: ImgprocState }>;

export interface ImgprocImageAttributes extends HTMLAttributes<HTMLElement> {
  "src-key": string; // the upload's key, e.g. "uploads/u1/photo.jpg"
  cdn?: string; // origin serving processed/…/manifest.json; default: the page's origin
  alt?: string;
  sizes?: string;
  prefix?: string; // default "processed/"
  timeout?: number; // seconds before giving up, default 60
  interval?: number; // first poll delay in ms, default 500
  width?: number; // px width of the box shown while nothing is known yet, default 320
  loading?: "lazy" | "eager";
  // React 19 adds `on<name>` props of a custom element as listeners for the event <name>,
  // spelt exactly so: these two, not onImgprocState.
  "onimgproc-state"?: (event: ImgprocStateEvent) => void; // waiting, complete, error
  "onimgproc-load"?: (event: Event) => void; // the chosen variant has loaded
}

declare module "react" {
  namespace JSX {
    interface IntrinsicElements {
      "imgproc-image": DetailedHTMLProps<ImgprocImageAttributes, HTMLElement>;
    }
  }
}
