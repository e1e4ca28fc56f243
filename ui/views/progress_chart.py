"""A small live chart of the best objective and the best bound over time (QPainter; no QtCharts)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui import palette
from ui.icons import font_scale

OBJECTIVE = QColor("#2563eb")
BOUND = QColor("#16a34a")


class ProgressChart(QWidget):
    """The x axis spans the time limit, so the clock ticking does not repaint it; the picture is
    rendered once per improving solution into a pixmap (few calls into Qt while the solver
    competes for the GIL)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.points: list[tuple[float, float, float]] = []  # (seconds, objective, bound)
        self.elapsed = 0.0  # the x axis' right end
        self._pixmap: QPixmap | None = None
        self._stale = False
        self.empty_text = "Objective and bound\nappear here while solving"

    def clear(self, span: float = 0.0, empty_text: str = "Objective and bound\nappear here while solving") -> None:
        self.points = []
        self.empty_text = empty_text
        self.elapsed = span
        self._changed()

    def add_point(self, seconds: float, objective: float, bound: float, *, repaint: bool = True) -> None:
        """O(1): append; repaint now, or later through ``flush`` (the solve panel's clock does that,
        so a burst of solutions costs one repaint per tick)."""
        self.points.append((seconds, objective, bound))
        self.elapsed = max(self.elapsed, seconds)
        self._stale = True
        if repaint:
            self.flush()

    def flush(self) -> None:
        if self._stale:
            self._stale = False
            self._changed()

    def set_elapsed(self, seconds: float) -> None:
        """Widen the x axis (only when a solve outlives it, or to fit the final time)."""
        if abs(seconds - self.elapsed) > 1e-6:
            self.elapsed = seconds
            self._changed()

    def set_empty_text(self, text: str) -> None:
        self.empty_text = text
        self._changed()

    def _changed(self) -> None:
        self._pixmap = None
        self.update()

    def resizeEvent(self, event) -> None:
        self._pixmap = None
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        if self._pixmap is None or self._pixmap.size() != self.size():
            self._pixmap = QPixmap(self.size())
            self._render(self._pixmap)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        painter.end()

    def _render(self, target: QPixmap) -> None:
        p = QPainter(target)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        font = QFont(self.font())
        font.setPointSizeF(7.5 * font_scale())
        p.setFont(font)
        fm = QFontMetrics(font)
        left = fm.horizontalAdvance("00000") + 8
        plot = QRectF(left, 8, self.width() - left - 8, self.height() - 8 - fm.height() * 2 - 10)
        p.setPen(QPen(palette.HOUR_LINE, 1))
        p.drawRect(plot)
        if not self.points:
            p.setPen(palette.MUTED)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, self.empty_text)
            p.end()
            return
        xmax = max(self.elapsed, self.points[-1][0], 1.0)
        values = [v for _, o, b in self.points for v in (o, b)]
        ylo, yhi = min(values), max(values)
        if yhi - ylo < 1e-9:
            ylo, yhi = ylo - 1, yhi + 1
        pad = (yhi - ylo) * 0.08
        ylo, yhi = ylo - pad, yhi + pad

        def pt(t: float, v: float) -> QPointF:
            return QPointF(plot.left() + plot.width() * t / xmax, plot.bottom() - plot.height() * (v - ylo) / (yhi - ylo))

        p.setPen(palette.MUTED)
        for v in (yhi - pad, ylo + pad):
            y = pt(0, v).y()
            p.drawText(QRectF(0, y - fm.height() / 2, left - 4, fm.height()), Qt.AlignmentFlag.AlignRight, _short(v))
        bottom = plot.bottom() + 2
        p.drawText(QRectF(plot.left(), bottom, 40, fm.height()), Qt.AlignmentFlag.AlignLeft, "0 s")
        p.drawText(QRectF(plot.right() - 60, bottom, 60, fm.height()), Qt.AlignmentFlag.AlignRight, f"{xmax:.0f} s")
        for column, colour in ((1, OBJECTIVE), (2, BOUND)):
            path = QPainterPath()
            for i, point in enumerate(self.points):
                here = pt(point[0], point[column])
                if i == 0:
                    path.moveTo(here)
                else:
                    path.lineTo(QPointF(here.x(), path.currentPosition().y()))
                    path.lineTo(here)
            path.lineTo(QPointF(pt(xmax, 0).x(), path.currentPosition().y()))
            p.setPen(QPen(colour, 1.8, Qt.PenStyle.SolidLine if column == 1 else Qt.PenStyle.DashLine))
            p.drawPath(path)
            p.setPen(Qt.PenStyle.NoPen)  # the latest value as a dot (a lone final point shows too)
            p.setBrush(colour)
            p.drawEllipse(pt(self.points[-1][0], self.points[-1][column]), 3, 3)
            p.setBrush(Qt.BrushStyle.NoBrush)
        legend_y = bottom + fm.height() + 2
        x = plot.left()
        for label, colour, style in (("objective", OBJECTIVE, Qt.PenStyle.SolidLine), ("bound", BOUND, Qt.PenStyle.DashLine)):
            p.setPen(QPen(colour, 2, style))
            p.drawLine(QPointF(x, legend_y + fm.height() / 2), QPointF(x + 16, legend_y + fm.height() / 2))
            p.setPen(palette.TEXT)
            p.drawText(QPointF(x + 20, legend_y + fm.ascent()), label)
            x += 30 + fm.horizontalAdvance(label)
        p.end()


def _short(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}"
