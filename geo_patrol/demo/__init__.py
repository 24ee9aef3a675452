"""The demo region: the Shengze (Jiangsu) – Wangjiangjing (Zhejiang) border."""
