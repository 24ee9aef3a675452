"""The words of the phone web app and the set-up pages, in Chinese (default) and English."""

from __future__ import annotations

# The app's strings travel inside the shell page as JSON; the page picks the language
# (?lang=, then the phone's remembered choice, then GEO_PATROL_MOBILE_LANGUAGE).
APP: dict[str, dict[str, str]] = {
    "zh": {
        "title": "巡河", "online": "在线", "offline": "离线", "queue_badge": "待传 {n}",
        "tab_patrol": "巡河", "tab_report": "上报", "tab_queue": "队列", "tab_more": "更多",
        "signin_intro": "用账号登录，或用手机相机扫描队长设置页上的“网页应用”二维码。",
        "login": "账号", "password": "密码", "signin": "登录",
        "wrong_password": "账号或密码错误", "offline_signin": "没有网络，无法登录",
        "token_refused": "此手机的凭据已失效（被撤销或过期），请重新登录或重新扫码。"
                         "待传内容仍保留。",
        "screen_off": "注意：屏幕关闭或切到后台后，浏览器不再提供位置，这段时间记为“中断”。"
                      "长时间巡河请使用 Traccar Client（后台持续定位）。",
        "team": "巡河队", "mode": "方式", "mode_foot": "步行", "mode_boat": "船", "mode_car": "车",
        "members": "同行队员", "start": "开始巡河", "stop": "结束巡河", "report_here": "在此上报",
        "distance": "距离", "duration": "时长", "fixes": "定位点", "gaps": "中断",
        "gps_waiting": "等待定位…", "gps_ok": "定位精度约 {accuracy} 米",
        "gps_error": "定位失败：{error}", "no_team": "没有可上传的巡河队",
        "no_geolocation": "此浏览器不能定位", "too_few_fixes": "定位点太少，未保存",
        "patrol_queued": "巡河已保存，将在有网络时上传",
        "category": "类别", "severity": "严重程度", "severity_low": "轻微",
        "severity_medium": "一般", "severity_high": "严重", "severity_critical": "紧急",
        "description": "说明", "photo": "照片（拍照）", "where": "位置",
        "where_here": "当前位置", "where_map": "在地图上点选", "submit_report": "保存上报",
        "no_location": "没有位置：请等待定位或在地图上点选",
        "report_queued": "上报已保存，将在有网络时发送",
        "sync_now": "立即同步", "queue_empty": "没有待传内容",
        "queue_patrol": "巡河轨迹：{title}（{n} 点，{length}，中断 {gaps} 次）",
        "queue_report": "上报：{category}，{severity}{photo}", "with_photo": "，有照片",
        "queue_file": "轨迹文件：{name}",
        "state_waiting": "等待网络", "state_sending": "发送中…", "state_failed": "失败",
        "no_answer": "{s} 秒内服务器没有回应，稍后自动重发",
        "state_done": "已同步（编号 {id}）", "state_done_again": "已同步（编号 {id}，服务器已有）",
        "retry": "重试", "delete": "删除", "confirm_delete": "删除这一项？它不会被上传。",
        "recent_patrols": "本队最近巡河", "nearby": "附近未办结事件",
        "upload_file": "上传轨迹文件（GPX、KML、KMZ）", "datum": "坐标系",
        "queue_file_button": "保存并上传", "file_queued": "文件已保存，将在有网络时上传",
        "loading": "加载中…", "none": "无", "needs_network": "需要网络",
        "signout": "退出登录",
        "signout_with_queue": "还有 {n} 项未上传，退出将删除它们。确定退出？",
        "via_device": "（本机凭据）",
        "scan_with_queue": "上一个登录还有 {n} 项未上传：请先同步（或退出登录）再扫码。",
        "signin_with_queue": "手机上还有 {name} 的 {n} 项未上传：请先由 {name} 登录并同步。",
        "status_reported": "已上报", "status_assigned": "已分派",
        "status_accepted": "已受理", "status_in_progress": "处理中", "status_reopened": "重新打开",
    },
    "en": {
        "title": "Patrol", "online": "online", "offline": "offline", "queue_badge": "to send {n}",
        "tab_patrol": "Patrol", "tab_report": "Report", "tab_queue": "Queue", "tab_more": "More",
        "signin_intro": "Sign in with your account, or scan the “web app” QR code on your team "
                        "lead's set-up page with the phone's camera.",
        "login": "Login", "password": "Password", "signin": "Sign in",
        "wrong_password": "Wrong login or password", "offline_signin": "No network: cannot sign in",
        "token_refused": "This phone's credential no longer works (revoked or expired): sign in "
                         "or scan again. Nothing waiting to be sent is lost.",
        "screen_off": "Note: with the screen off or the page in the background the browser gives "
                      "no positions; that time is kept as a gap. For long patrols use Traccar "
                      "Client, which records in the background.",
        "team": "Team", "mode": "On", "mode_foot": "foot", "mode_boat": "boat", "mode_car": "car",
        "members": "Members on the outing", "start": "Start patrol", "stop": "Stop patrol",
        "report_here": "Report here", "distance": "Distance", "duration": "Duration",
        "fixes": "Fixes", "gaps": "Gaps", "gps_waiting": "Waiting for a position…",
        "gps_ok": "Accuracy about {accuracy} m", "gps_error": "No position: {error}",
        "no_team": "No team you can upload for", "no_geolocation": "This browser cannot locate",
        "too_few_fixes": "Too few positions: not kept",
        "patrol_queued": "Patrol saved; it is sent when there is a network",
        "category": "Category", "severity": "Severity", "severity_low": "low",
        "severity_medium": "medium", "severity_high": "high", "severity_critical": "critical",
        "description": "Description", "photo": "Photo (camera)", "where": "Location",
        "where_here": "Where I am", "where_map": "Tap on the map", "submit_report": "Save report",
        "no_location": "No location: wait for a position or tap on the map",
        "report_queued": "Report saved; it is sent when there is a network",
        "sync_now": "Sync now", "queue_empty": "Nothing waiting",
        "queue_patrol": "Patrol track: {title} ({n} fixes, {length}, {gaps} gaps)",
        "queue_report": "Report: {category}, {severity}{photo}", "with_photo": ", with photo",
        "queue_file": "Track file: {name}",
        "state_waiting": "waiting for the network", "state_sending": "sending…",
        "state_failed": "failed", "state_done": "synced (no. {id})",
        "no_answer": "no answer from the service in {s} s; it will be sent again",
        "state_done_again": "synced (no. {id}, the server had it)",
        "retry": "Retry", "delete": "Delete", "confirm_delete": "Delete it? It will not be sent.",
        "recent_patrols": "Team's recent patrols", "nearby": "Open incidents nearby",
        "upload_file": "Upload a track file (GPX, KML, KMZ)", "datum": "Coordinates",
        "queue_file_button": "Save and upload", "file_queued": "File saved; sent when online",
        "loading": "Loading…", "none": "none", "needs_network": "needs the network",
        "signout": "Sign out",
        "signout_with_queue": "{n} items are not sent yet and will be deleted. Sign out?",
        "via_device": " (this phone's credential)",
        "scan_with_queue": "{n} items of the previous sign-in are not sent yet: sync them (or "
                           "sign out) before scanning another code.",
        "signin_with_queue": "{n} items made by {name} are not sent yet: {name} signs in "
                             "first to send them.",
        "status_reported": "reported",
        "status_assigned": "assigned", "status_accepted": "accepted",
        "status_in_progress": "in progress", "status_reopened": "reopened",
    },
}  # fmt: skip

# The set-up and device pages, rendered on the server.
SETUP: dict[str, dict[str, str]] = {
    "zh": {
        "devices_title": "手机设置", "device": "设备", "member": "队员", "last_seen": "最近使用",
        "revoked": "已撤销", "active": "有效", "setup": "设置", "revoke": "撤销",
        "confirm_revoke": "撤销后这部手机立即无法再上传。确定？",
        "issue_title": "为队员登记新手机", "label": "手机名称（如 红米 12）",
        "issue": "登记并显示设置二维码", "none": "没有可管理的手机",
        "setup_title": "手机设置：{label}（{member}）",
        "secret": "二维码里含有这部手机的凭据（相当于密码）：只在队员面前显示，不要截图或转发。"
                  "每次生成都会换一个新凭据，旧的立即失效。",
        "generate": "生成设置二维码", "regenerate": "重新生成（旧凭据失效）",
        "revoked_note": "这部手机已被撤销，不能再设置；请登记一部新手机。",
        "traccar": "Traccar Client（推荐，后台持续记录）",
        "traccar_steps": "在手机上安装 Traccar Client（应用商店搜索“Traccar Client”）。|"
                         "打开 Traccar Client，进入“设置”，点右上角的二维码图标。|"
                         "扫描下面的二维码：服务器地址、设备标识、精度和间隔会自动填好。|"
                         "允许定位权限，选择“始终允许”，并关闭对它的电池优化。|"
                         "回到主界面，打开“服务状态”开关，开始巡河。",
        "traccar_manual": "旧版没有扫码功能时，在设置里手动填写：",
        "server_url": "服务器地址", "device_id": "设备标识",
        "osmand": "OsmAnd（在线跟踪）",
        "osmand_steps": "用手机相机或扫码工具扫描下面的二维码，复制得到的网址。|"
                        "OsmAnd → 菜单 → 插件 → 启用“行程记录”。|"
                        "行程记录设置 → 在线跟踪：把网址粘贴到“网址”，打开在线跟踪。",
        "app": "巡河网页应用",
        "app_steps": "用手机相机扫描下面的二维码，在浏览器中打开。|"
                     "页面自动登录这部手机；可“添加到主屏幕”当作应用使用。",
        "back": "返回手机列表", "lang": "English", "error": "出错：",
    },
    "en": {
        "devices_title": "Phones", "device": "Device", "member": "Member", "last_seen": "Last seen",
        "revoked": "revoked", "active": "active", "setup": "Set up", "revoke": "Revoke",
        "confirm_revoke": "The phone is cut off at once. Revoke?",
        "issue_title": "Register a new phone for a member", "label": "Phone name (e.g. Redmi 12)",
        "issue": "Register and show the set-up QR codes", "none": "No phones you may manage",
        "setup_title": "Set up a phone: {label} ({member})",
        "secret": "The QR codes hold this phone's credential (as good as a password): show them "
                  "only to the member, do not screenshot or forward them. Every time they are "
                  "made the credential is new and the previous one stops working.",
        "generate": "Make the set-up QR codes", "regenerate": "Make new ones (old credential "
                                                              "stops working)",
        "revoked_note": "This phone is revoked and cannot be set up; register a new phone.",
        "traccar": "Traccar Client (recommended: records in the background)",
        "traccar_steps": "Install Traccar Client on the phone (search “Traccar Client” in the "
                         "app store).|Open Traccar Client, go to Settings and tap the QR code "
                         "icon at the top.|Scan the code below: server URL, device identifier, "
                         "accuracy and interval are filled in.|Allow location “all the time” "
                         "and exempt the app from battery optimisation.|Back on the main "
                         "screen, switch “Service status” on and start the patrol.",
        "traccar_manual": "Versions without a QR reader: type these in Settings:",
        "server_url": "Server URL", "device_id": "Device identifier",
        "osmand": "OsmAnd (online tracking)",
        "osmand_steps": "Scan the code below with the phone's camera or a QR app and copy the "
                        "address.|OsmAnd → Menu → Plugins → enable “Trip recording”.|Trip "
                        "recording settings → Online tracking: paste the address as “Web "
                        "address” and switch online tracking on.",
        "app": "Patrol web app",
        "app_steps": "Scan the code below with the phone's camera and open it in the browser.|"
                     "The page signs this phone in; “Add to home screen” makes it an app.",
        "back": "Back to the phones", "lang": "中文", "error": "Error: ",
    },
}  # fmt: skip


def words(table: dict[str, dict[str, str]], lang: str) -> dict[str, str]:
    """One language of a table (Chinese unless English is asked for)."""
    return table["en" if lang == "en" else "zh"]
