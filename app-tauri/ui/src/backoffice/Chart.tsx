import { useEffect, useRef } from "react";
import * as echarts from "echarts";

/// An ECharts chart filling its box; `option` is redrawn whenever it changes.
export function Chart({ option, testId, height = 260 }: { option: echarts.EChartsOption; testId?: string; height?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!ref.current) return;
    chart.current = echarts.init(ref.current, undefined, { renderer: "canvas" });
    const onResize = () => chart.current?.resize();
    window.addEventListener("resize", onResize);
    return () => {
      window.removeEventListener("resize", onResize);
      chart.current?.dispose();
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, true);
  }, [option]);
  return <div ref={ref} className="chart" style={{ height }} data-testid={testId} />;
}
